"""The humans of a generated tenant: one profile each, chosen so every identifier form occurs."""

from __future__ import annotations

import random

from . import _names
from ._people import (
    DOMAIN,
    NETBIOS,
    ONMICROSOFT,
    UNKNOWN_NETBIOS,
    Builder,
    Population,
    Role,
    add_externals,
    add_pseudo_users,
    add_service_accounts,
)
from ._truth import IdentifierForm as F

__all__ = ["build_population"]

#: Profiles of a human's ``sys_user`` row(s), with their share of the people.
_ROW_PROFILES = {
    "leaver": 0.04,
    "entra": 0.15,
    "upn_match": 0.03,
    "upn_nomatch": 0.03,
    "twin_inactive": 0.02,
    "twin_active": 0.01,
    "conflict": 0.005,
}
#: Profiles of how one stream shows a plain human, with their share of the people.
_STYLES = {
    "downlevel": 0.18,
    "fabrikam": 0.02,
    "bare": 0.04,
    "plus": 0.04,
    "onmicrosoft": 0.04,
    "local": 0.08,
    "case": 0.08,
    "anonymized": 0.01,
}
#: The form of a human's usual identifier (the UPN Entra enrichment reports), by profile.
_FORMS = {
    "leaver": F.INACTIVE_LEAVER,
    "upn_match": F.UPN_DIFFERS_FROM_EMAIL,
    "upn_nomatch": F.UPN_NOT_IN_DIRECTORY,
    "twin_inactive": F.DUPLICATE_EMAIL_INACTIVE_TWIN,
    "twin_active": F.DUPLICATE_EMAIL_BOTH_ACTIVE,
    "conflict": F.KEY_CONFLICT,
    "case": F.EMAIL_CASE_VARIANT,
}
#: The stream whose most used app is made to list a profile's first human.
_HOME = {
    "downlevel": Role.FIREWALL,
    "fabrikam": Role.FIREWALL,
    "bare": Role.FIREWALL,
    "local": Role.ENDPOINT,
    "anonymized": Role.ANONYMIZED,
}


def build_population(humans: int, rng: random.Random) -> Population:
    """Make ``humans`` people plus service accounts, partners and pseudo-users.

    Raises:
        ValueError: when ``humans`` is too small to hold every profile once.
    """
    builder = Builder(rng)
    names = [(rng.choice(_names.FIRST_NAMES), rng.choice(_names.LAST_NAMES)) for _ in range(humans)]
    forced: set[str] = set()
    for (first, last), profile in zip(names, _profiles(humans, rng), strict=True):
        _add_human(builder, first, last, profile, forced)
    add_service_accounts(builder, min(len(_names.SERVICE_ACCOUNTS), max(2, humans // 250)))
    add_externals(builder, max(2, humans // 50))
    add_pseudo_users(builder, min(len(_names.LOCAL_ADMINS), 1 + humans // 2000))
    return builder.population()


def _profiles(n: int, rng: random.Random) -> list[str]:
    out: list[str] = []
    for name, rate in (*_ROW_PROFILES.items(), *_STYLES.items()):
        out.extend([name] * max(1, round(n * rate)))
    if len(out) > n:
        raise ValueError(f"a tenant needs at least {len(out)} people, got {n}")
    out.extend(["plain"] * (n - len(out)))
    rng.shuffle(out)
    return out


def _add_human(b: Builder, first: str, last: str, profile: str, forced: set[str]) -> None:
    local = b.reg.unique(f"{first}.{last}".lower().replace(" ", ""))
    email = b.reg.claim(f"{local}@{DOMAIN}")
    sam = b.reg.unique("".join(c for c in (first[0] + last).lower() if c.isalnum())[:20], limit=20)
    upn, user_name = email, sam
    if profile == "entra":
        user_name = email  # provisioned from Entra: the User ID is the UPN
    elif profile in ("upn_match", "upn_nomatch"):
        upn = b.reg.claim(f"{sam}@{DOMAIN}")
        user_name = upn if profile == "upn_match" else sam
    elif profile == "case":
        upn = _case_variant(email, b.rng)
    name = f"{first} {last}"
    extra = {
        "first_name": first,
        "last_name": last,
        "employee_number": f"E{len(b.actors) + 10001:06d}",
    }
    row = b.row(
        user_name=user_name, email=email, name=name, active=profile != "leaver", extra=extra
    )
    if profile == "twin_inactive":  # an old account of the same person, left behind
        b.row(user_name=b.reg.unique(f"{sam}_old"), email=email, name=name, active=False)
    elif profile == "twin_active":  # a second, contractor account with the same mailbox
        b.row(user_name=b.reg.unique(f"c_{sam}"), email=email, name=f"{name} (contractor)")
    elif profile == "conflict":
        _renamed_colleague(b, first, email)
    device = b.device()
    overrides = {
        "downlevel": {Role.FIREWALL: (f"{NETBIOS}\\{sam}", F.DOWNLEVEL)},
        "fabrikam": {Role.FIREWALL: (f"{UNKNOWN_NETBIOS}\\{sam}", F.DOWNLEVEL_UNKNOWN_DOMAIN)},
        "bare": {Role.FIREWALL: (sam, F.BARE_SAM)},
        "plus": {
            Role.PROXY: (f"{local}+{b.rng.choice(_names.PLUS_TAGS)}@{DOMAIN}", F.PLUS_ADDRESS)
        },
        "onmicrosoft": {Role.PROXY: (f"{local}@{ONMICROSOFT}", F.ONMICROSOFT_ALIAS)},
        "local": {Role.ENDPOINT: (f"{sam}\\{device}", F.LOCAL_ACCOUNT)},
    }.get(profile, {})
    # one human per profile is enough to guarantee its form; forcing more would skew coverage
    home: frozenset[Role] = frozenset()
    if profile not in ("plain", "entra") and profile not in forced:
        forced.add(profile)
        home = frozenset({_HOME.get(profile, Role.PROXY)})
    b.add_actor(
        (upn, _FORMS.get(profile, F.EMAIL)),
        person=row,
        row=row,
        device=device,
        overrides=overrides,
        forced=home,
    )


def _renamed_colleague(b: Builder, first: str, old_email: str) -> None:
    """A colleague who married and was renamed; her ``user_name`` kept the old UPN."""
    last = b.rng.choice(_names.LAST_NAMES)
    local = b.reg.unique(f"{first}.{last}".lower().replace(" ", ""))
    email = b.reg.claim(f"{local}@{DOMAIN}")
    row = b.row(user_name=old_email, email=email, name=f"{first} {last}")
    b.add_actor((email, F.EMAIL), person=row, row=row, device=b.device())


def _case_variant(email: str, rng: random.Random) -> str:
    local, _, domain = email.partition("@")
    choice = rng.randrange(3)
    if choice == 0:
        return email.upper()
    if choice == 1:
        return f"{'.'.join(p[:1].upper() + p[1:] for p in local.split('.'))}@{domain}"
    return f"{local}@{domain.upper()}"
