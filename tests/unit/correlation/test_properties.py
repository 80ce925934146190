"""Property tests: precision against a generated ground truth, and input order.

The ground truth comes from how each identifier was generated (which person
it was derived from and which decoys exist), never from the correlator.
"""

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from cisync_lib.correlation import Correlator, CorrelatorConfig, InMemoryUserDirectory, Status

from .conftest import user

CONFIG = CorrelatorConfig(
    domain_aliases={"contoso.onmicrosoft.com": "contoso.com"},
    netbios_domains={"CONTOSO": {"upn_suffix": "contoso.com"}},
    plus_tag_domains=["contoso.com"],
    exclude_classes={"customer_contact"},
)
FORMS = ("email", "padded", "alias", "plus", "downlevel", "bare")
DECOYS = ("none", "inactive_dup", "active_dup", "service_dup", "excluded_dup", "accent_twin")

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéüß", min_size=1, max_size=8)


def reference_key(raw):
    """The normalised key as the issue defines it, written independently of the library:
    NFC, zero-width characters removed, trimmed, casefolded (and re-composed)."""
    text = unicodedata.normalize("NFC", raw)
    text = "".join(c for c in text if c not in "\u200b\u200c\u200d\u2060\ufeff").strip()
    return unicodedata.normalize("NFC", text.casefold())


def strip_accents(text):
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def recase(text, mask):
    return "".join(
        c.upper() if flip else c for c, flip in zip(text, mask + [False] * len(text), strict=False)
    )


@st.composite
def tenants(draw):
    """Users plus (identifier, allowed sys_ids) pairs; allowed is empty when no match is justified."""
    people = draw(
        st.lists(
            st.tuples(words, st.booleans(), st.booleans(), st.sampled_from(DECOYS)),
            min_size=1,
            max_size=6,
        )
    )
    users, truth = [], []
    for i, (word, upn_style, active, decoy) in enumerate(people):
        local = f"{word}{i}"
        email = f"{local}@contoso.com"
        pid = f"P{i}"
        users.append(user(pid, email if upn_style else local, email, active=active))
        if decoy == "inactive_dup" and active:
            users.append(user(f"D{i}", f"dup_{local}", email, active=False))
        elif decoy == "active_dup":
            users.append(user(f"D{i}", f"dup_{local}", email, active=True))
        elif decoy == "service_dup":
            users.append(user(f"D{i}", f"svc_{local}", email, internal_integration_user=True))
        elif decoy == "excluded_dup":
            users.append(user(f"D{i}", f"c_{local}", email, cls="customer_contact"))
        elif decoy == "accent_twin" and strip_accents(local) != local:
            twin = strip_accents(local)
            users.append(user(f"T{i}", f"twin_{twin}", f"{twin}@contoso.com"))
        form = draw(st.sampled_from(FORMS))
        mask = draw(st.lists(st.booleans(), max_size=len(email)))
        identifier = {
            "email": recase(email, mask),
            "padded": f"\u00a0{email}\u200b ",
            "alias": f"{local}@contoso.onmicrosoft.com",
            "plus": f"{local}+saas@contoso.com",
            "downlevel": f"CONTOSO\\{recase(local, mask)}",
            "bare": local,
        }[form]
        allowed = {pid}
        if decoy == "active_dup" and form != "bare":
            # two active holders of the email: nobody; an inactive person and an active
            # holder: the email now belongs to the active one (active preference)
            allowed = {f"D{i}"} if not active else set()
        truth.append((identifier, allowed))
    strangers = draw(
        st.lists(
            st.sampled_from(
                [
                    "nobody@contoso.com",
                    "FABRIKAM\\someone",
                    "jdoe\\DESKTOP-1A2B3C",
                    "0123456789abcdef0123456789abcdef",
                    "N/A",
                ]
            ),
            max_size=3,
        )
    )
    truth.extend((s, set()) for s in strangers)
    order = draw(st.permutations(range(len(truth))))
    return users, [truth[i] for i in order]


@given(tenants(), st.booleans())
def test_precision_is_100_percent(tenant, server_like):
    """Every MATCHED result is the person the identifier was generated from (if any is justified)."""
    users, truth = tenant
    names = [identifier for identifier, _ in truth]
    results = Correlator(CONFIG).resolve_each(
        names, InMemoryUserDirectory(users, server_like=server_like)
    )
    for (identifier, allowed), result in zip(truth, results, strict=True):
        if result.status is Status.MATCHED:
            assert result.user.sys_id in allowed, (identifier, result.message)


@given(
    st.lists(
        st.sampled_from(
            [
                "a@contoso.com",
                "A@Contoso.com",
                " a@contoso.com",
                "b@contoso.com",
                "CONTOSO\\b",
                "",
                "n/a",
                "c",
                "C",
            ]
        )
        | st.text(max_size=6),
        max_size=12,
    )
)
def test_results_keep_first_seen_input_order(names):
    """One result per distinct normalised identifier, in first-seen order."""
    results = Correlator(CONFIG).resolve(
        names, InMemoryUserDirectory([user("U", "c", "b@contoso.com")])
    )
    assert [r.parsed.normalized for r in results] == list(
        dict.fromkeys(reference_key(n) for n in names)
    )
    assert sum(r.occurrences for r in results) == len(names)
