r"""The people of a generated tenant: ``sys_user`` rows and the identifiers logs show for them.

Each *actor* (a human, a service account, a partner, or a pseudo-user such as
``AnonymousUser``) is in some of the tenant's streams and shows up in each
under one identifier of a known form (:mod:`._truth`). Keys are kept unique
(casefolded) across rows, except where a form is about a collision.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping

from attrs import field, frozen

from cisync_lib import SnUser

from . import _names
from ._truth import IdentifierForm as F

__all__ = ["Actor", "Builder", "Population", "Role"]

DOMAIN = "contoso.com"
ONMICROSOFT = "contoso.onmicrosoft.com"
NETBIOS = "CONTOSO"
UNKNOWN_NETBIOS = "FABRIKAM"
_DEVICE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


class Role(enum.Enum):
    """The part a stream plays; it decides how actors are identified in it."""

    FIREWALL = "firewall"
    PROXY = "proxy"
    ANONYMIZED = "anonymized"
    ENDPOINT = "endpoint"
    SNAPSHOT = "snapshot"


#: Share of humans each stream sees.
COVERAGE = {
    Role.FIREWALL: 0.6,
    Role.PROXY: 0.45,
    Role.ANONYMIZED: 0.12,
    Role.ENDPOINT: 0.85,
    Role.SNAPSHOT: 0.3,
}


@frozen(kw_only=True)
class Actor:
    """Someone (or something) that shows up in discovery data.

    Attributes:
        index: position in :attr:`Population.actors`.
        person: the human's ``sys_id`` (ground truth ``person``), if a human.
        row: the ``sys_id`` a correct match points at, if any.
        device: the actor's device name on endpoint streams.
        identifiers: per stream role the actor is in, its identifier and form.
        forced: roles whose most used app must list the actor in every period,
            so that each form shows up even in the smallest tenant.
    """

    index: int
    person: str | None
    row: str | None
    device: str | None
    identifiers: Mapping[Role, tuple[str, F]] = field(factory=dict)
    forced: frozenset[Role] = frozenset()


@frozen(kw_only=True)
class Population:
    """All actors and the ``sys_user`` rows of a tenant."""

    actors: tuple[Actor, ...]
    sys_users: tuple[SnUser, ...]


class _Registry:
    """Hands out sys_ids, e-mail addresses and user names that never collide by accident."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.taken: set[str] = set()  # casefolded emails and user_names share one namespace

    def sys_id(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def unique(self, stem: str, fmt: str = "{stem}{n}", limit: int = 0) -> str:
        n = 1
        value = stem
        while value.casefold() in self.taken:
            n += 1
            value = fmt.format(stem=stem[: limit - len(str(n))] if limit else stem, n=n)
        self.taken.add(value.casefold())
        return value

    def claim(self, value: str) -> str:
        if value.casefold() in self.taken:
            raise AssertionError(f"generator bug: {value!r} collides")  # pragma: no cover
        self.taken.add(value.casefold())
        return value


class Builder:
    """Accumulates ``sys_user`` rows and actors while a population is generated."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.reg = _Registry(rng)
        self.rows: list[SnUser] = []
        self.actors: list[Actor] = []
        self.devices: set[str] = set()

    def row(
        self,
        *,
        user_name: str,
        email: str,
        name: str,
        active: bool = True,
        extra: Mapping[str, str] | None = None,
        web_service_access_only: bool = False,
        internal_integration_user: bool = False,
    ) -> str:
        """Add a ``sys_user`` row and return its sys_id."""
        sys_id = self.reg.sys_id()
        self.rows.append(
            SnUser(
                sys_id=sys_id,
                user_name=user_name,
                email=email,
                active=active,
                name=name,
                extra=dict(extra or {}),
                web_service_access_only=web_service_access_only,
                internal_integration_user=internal_integration_user,
            )
        )
        return sys_id

    def device(
        self,
        prefixes: tuple[str, ...] = _names.DEVICE_PREFIXES,
        width: int = 7,
        chars: str = _DEVICE_CHARS,
    ) -> str:
        """A new, unique device name such as ``LAPTOP-7F3KQ2M`` or ``PC-0042``."""
        while True:
            prefix = self.rng.choice(prefixes)
            digits = "".join(self.rng.choices(chars, k=width - 1))
            name = f"{prefix}-{self.rng.randrange(10)}{digits}"
            if name not in self.devices:
                self.devices.add(name)
                return name

    def add_actor(
        self,
        base: tuple[str, F],
        *,
        person: str | None = None,
        row: str | None = None,
        device: str | None = None,
        overrides: Mapping[Role, tuple[str, F]] | None = None,
        forced: frozenset[Role] = frozenset(),
        roles: tuple[Role, ...] | None = None,
    ) -> None:
        """Add an actor identified by ``base`` in its streams unless ``overrides`` says otherwise.

        ``roles=None`` draws the streams by :data:`COVERAGE` (humans); in the
        anonymized stream a human gets a token instead.
        """
        drawn = roles is None
        idents: dict[Role, tuple[str, F]] = {}
        for role in Role if drawn else (roles or ()):
            if drawn and role not in forced and self.rng.random() >= COVERAGE[role]:
                continue
            if role is Role.ANONYMIZED:
                idents[role] = (f"{self.rng.getrandbits(128):032x}", F.ANONYMIZED_TOKEN)
            else:
                idents[role] = (overrides or {}).get(role, base)
        actor = Actor(
            index=len(self.actors),
            person=person,
            row=row,
            device=device,
            identifiers=idents,
            forced=forced,
        )
        self.actors.append(actor)

    def population(self) -> Population:
        """The rows and actors added so far."""
        return Population(actors=tuple(self.actors), sys_users=tuple(self.rows))


def add_service_accounts(b: Builder, count: int) -> None:
    """Integration accounts that call SaaS APIs; their rows are flagged non-human."""
    for i, (user_name, local, name) in enumerate(_names.SERVICE_ACCOUNTS[:count]):
        email = b.reg.claim(f"{local}@{DOMAIN}")
        b.reg.claim(user_name)
        row = b.row(
            user_name=user_name,
            email=email,
            name=name,
            web_service_access_only=i % 2 == 0,
            internal_integration_user=i % 2 == 1,
        )
        b.add_actor(
            (email, F.SERVICE_ACCOUNT),
            row=row,
            device=f"SRV-{local.split('-')[-1].upper()}01",
            forced=frozenset({Role.PROXY}) if i == 0 else frozenset(),
            roles=(Role.FIREWALL, Role.PROXY, Role.ENDPOINT),
        )


def add_externals(b: Builder, count: int) -> None:
    """Partners and consumer addresses: seen on the network, never in ``sys_user``."""
    for i in range(count):
        first = b.rng.choice(_names.FIRST_NAMES)
        last = b.rng.choice(_names.LAST_NAMES)
        domain = _names.EXTERNAL_DOMAINS[i % len(_names.EXTERNAL_DOMAINS)]
        local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
        address = b.reg.unique(f"{local}@{domain}", fmt=f"{local}{{n}}@{domain}")
        b.add_actor(
            (address, F.EXTERNAL),
            roles=(Role.FIREWALL, Role.PROXY),
            forced=frozenset({Role.PROXY}) if i == 0 else frozenset(),
        )


def add_pseudo_users(b: Builder, local_admins: int) -> None:
    """``AnonymousUser``, the empty name and machine-local administrators."""
    b.add_actor(
        ("AnonymousUser", F.ANONYMOUS_USER),
        forced=frozenset({Role.PROXY}),
        roles=(Role.FIREWALL, Role.PROXY),
    )
    b.add_actor(("", F.EMPTY), forced=frozenset({Role.FIREWALL}), roles=(Role.FIREWALL,))
    for name in _names.LOCAL_ADMINS[:local_admins]:
        device = b.device(("PC",), width=4, chars="0123456789")
        b.add_actor(
            (f"{name}\\{device}", F.LOCAL_ACCOUNT),
            device=device,
            forced=frozenset({Role.ENDPOINT}),
            roles=(Role.ENDPOINT,),
        )
