"""Parsing, classification and normalisation (pure)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cisync_lib.correlation import CorrelatorConfig, InputKind, ObservedName, ReasonCode
from cisync_lib.correlation._parse import normalize, parse

CONFIG = CorrelatorConfig(netbios_domains={"CONTOSO": {"upn_suffix": "contoso.com"}})


@pytest.mark.parametrize(
    ("raw", "kind", "skip"),
    [
        ("Jane.Doe@Contoso.com", InputKind.EMAIL_LIKE, None),
        ("jdoe@contoso.onmicrosoft.com", InputKind.EMAIL_LIKE, None),
        ("o'brien@contoso.com", InputKind.EMAIL_LIKE, None),
        ("CONTOSO\\jdoe", InputKind.DOWNLEVEL, None),
        ("contoso\\JDoe", InputKind.DOWNLEVEL, None),
        ("FABRIKAM\\jdoe", InputKind.DOWNLEVEL, ReasonCode.DOMAIN_NOT_ALLOWED),
        ("jdoe\\LAPTOP-7F3K", InputKind.LOCAL_ACCOUNT, ReasonCode.LOCAL_ACCOUNT),
        ("Administrator\\PC-0042", InputKind.LOCAL_ACCOUNT, ReasonCode.LOCAL_ACCOUNT),
        ("jdoe", InputKind.BARE, None),
        ("0123456789ABCDEF0123456789abcdef", InputKind.ANONYMIZED, ReasonCode.ANONYMIZED),
        ("AnonymousUser", InputKind.ANONYMIZED, ReasonCode.ANONYMIZED),
        ("", InputKind.EMPTY, ReasonCode.EMPTY_INPUT),
        ("  ", InputKind.EMPTY, ReasonCode.EMPTY_INPUT),
        ("N/A", InputKind.EMPTY, ReasonCode.EMPTY_INPUT),
        ("-", InputKind.EMPTY, ReasonCode.EMPTY_INPUT),
        ("jane doe@contoso.com", InputKind.UNPARSEABLE, ReasonCode.UNPARSEABLE),
        ("x@contoso.com^ORactive=true", InputKind.UNPARSEABLE, ReasonCode.UNPARSEABLE),
        ("a@b@contoso.com", InputKind.UNPARSEABLE, ReasonCode.UNPARSEABLE),
        ("jdoe@localhost", InputKind.UNPARSEABLE, ReasonCode.UNPARSEABLE),
        ("a\\b\\c", InputKind.UNPARSEABLE, ReasonCode.UNPARSEABLE),
        ("j=doe", InputKind.UNPARSEABLE, ReasonCode.UNPARSEABLE),
        ("tab\there", InputKind.UNPARSEABLE, ReasonCode.UNPARSEABLE),
    ],
)
def test_classification(raw, kind, skip):
    """Each documented input form gets its kind and skip reason."""
    parsed = parse(raw, CONFIG)
    assert (parsed.kind, parsed.skip_reason) == (kind, skip)


def test_parts_of_each_form():
    """Local part, IDNA domain, NetBIOS domain and host are split out, folded."""
    email = parse("José@Bücher.Example", CONFIG)
    assert (email.local, email.domain) == ("josé", "xn--bcher-kva.example")
    down = parse("CONTOSO\\JDoe", CONFIG)
    assert (down.netbios, down.local) == ("contoso", "jdoe")
    local = parse("jdoe\\LAPTOP-7F3K", CONFIG)
    assert (local.local, local.host) == ("jdoe", "laptop-7f3k")


def test_stream_flag_marks_anonymized():
    """A name from an anonymising stream is anonymised, however it looks."""
    parsed = parse(ObservedName(raw="jdoe@contoso.com", anonymized=True), CONFIG)
    assert parsed.skip_reason is ReasonCode.ANONYMIZED


def test_configurable_anonymized_pattern():
    """The token pattern is configuration."""
    config = CorrelatorConfig(anonymized_pattern=r"^anon-[0-9]+$")
    assert parse("anon-42", config).kind is InputKind.ANONYMIZED
    assert parse("0123456789abcdef0123456789abcdef", config).kind is InputKind.BARE


def test_transforms_are_recorded_in_order():
    """Every step that changed the value is named, in order."""
    normalized, steps = normalize("\u00a0Jdoe@contoso.com\u200b ")
    assert normalized == "jdoe@contoso.com"
    assert steps == ("strip_zero_width", "trim", "casefold")
    assert normalize("e\u0301@x.com") == ("\u00e9@x.com", ("nfc",))
    assert normalize("jdoe@contoso.com") == ("jdoe@contoso.com", ())


def test_casefold_not_accent_stripping():
    """Straße folds to strasse (casefold); josé stays josé (no accent stripping)."""
    assert normalize("Straße@x.de")[0] == "strasse@x.de"
    assert normalize("josé@contoso.com")[0] == "josé@contoso.com"


names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",))
    | st.sampled_from(["\u00a0", "\u200b", "\ufeff", "İ", "ß", "\u0301", "\\", "@", " "]),
    max_size=30,
)


@given(names)
def test_normalize_is_idempotent(raw):
    """Normalising a normalised value changes nothing and records no step."""
    once, _ = normalize(raw)
    assert normalize(once) == (once, ())


@given(names)
def test_parse_is_stable_on_its_own_output(raw):
    """Parsing the normalised form gives the same kind and normalised value."""
    first = parse(raw, CONFIG)
    again = parse(first.normalized, CONFIG)
    assert (again.kind, again.normalized) == (first.kind, first.normalized)
