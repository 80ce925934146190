"""What the instance holds now: the rows the planner compares against, and their fingerprint."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime

from attrs import field, frozen

__all__ = ["APP_FIELDS", "AppRow", "CurrentState", "LinkRow", "ReadScope", "fingerprint_rows"]

#: app fields read from the instance (the ones the library may write, plus identity)
APP_FIELDS = (
    "sys_id",
    "correlation_id",
    "name",
    "short_description",
    "application_type",
    "install_type",
    "vendor",
    "discovery_source",
    "operational_status",
    "first_discovered",
    "last_discovered",
)


@frozen(kw_only=True)
class ReadScope:
    """Which rows are relevant to a plan, so the same rows can be read again at apply time.

    Attributes:
        app_names: names of desired apps (for adoption by exact name).
        vendor_names: vendor names to resolve.
        read_links: whether user links are part of the plan.
    """

    app_names: tuple[str, ...] = ()
    vendor_names: tuple[str, ...] = ()
    read_links: bool = True


@frozen(kw_only=True, slots=True)
class AppRow:
    """A CI of the app class as read (managed, or a candidate for adoption by name).

    Attributes:
        sys_id: the CI's sys_id.
        correlation_id: its correlation id ("" if none).
        name: its name.
        values: the raw values of the fields the library may write.
    """

    sys_id: str
    correlation_id: str = ""
    name: str = ""
    values: Mapping[str, str] = field(factory=dict, hash=False)


@frozen(kw_only=True, slots=True)
class LinkRow:
    """A user link of the configured type on a managed (or adoptable) app.

    Attributes:
        sys_id: the link row's sys_id.
        ci: the app CI's sys_id.
        user: the ``sys_user`` sys_id.
        created_by: ``sys_created_by`` of the row (who made it).
    """

    sys_id: str
    ci: str
    user: str
    created_by: str = ""


@frozen(kw_only=True)
class CurrentState:
    """The instance's relevant rows at one moment.

    Attributes:
        apps: managed CIs (our correlation prefix) and adoption candidates.
        links: rows of the configured relationship type on those CIs.
        links_read: False when links were not read (user sync off, not removing).
        choices: per field, choice label -> stored value (``sys_choice``).
        rel_type: the sys_id of the relationship type, or None if missing.
        vendors: vendor name -> ``core_company`` sys_id, for the names asked for.
        integration_user: the account the connection writes as, if known.
        read_at: when the read started (UTC).
        scope: what was read.
    """

    apps: tuple[AppRow, ...] = ()
    links: tuple[LinkRow, ...] = ()
    links_read: bool = True
    choices: Mapping[str, Mapping[str, str]] = field(factory=dict)
    rel_type: str | None = None
    vendors: Mapping[str, str] = field(factory=dict)
    integration_user: str | None = None
    read_at: datetime | None = None
    scope: ReadScope = ReadScope()
    _fingerprint: list[str] = field(factory=list, init=False, repr=False, eq=False)

    @property
    def fingerprint(self) -> str:
        """A stable hash of the relevant rows (order-independent, computed once)."""
        if not self._fingerprint:
            self._fingerprint.append(self._compute())
        return self._fingerprint[0]

    def _compute(self) -> str:
        def apps() -> Iterable[tuple[str, ...]]:
            for a in self.apps:
                yield (
                    "a",
                    a.sys_id,
                    a.correlation_id,
                    a.name,
                    *sorted(f"{k}={v}" for k, v in a.values.items()),
                )

        def rest() -> Iterable[tuple[str, ...]]:
            for element, labels in self.choices.items():
                for label, value in labels.items():
                    yield ("c", element, label, value)
            yield ("t", self.rel_type or "")
            for name, sys_id in self.vendors.items():
                yield ("v", name, sys_id)
            yield ("l", str(self.links_read))

        links = (("k", r.sys_id, r.ci, r.user, r.created_by) for r in self.links)
        return fingerprint_rows([*apps(), *rest()], links)


def fingerprint_rows(
    small: Iterable[tuple[str, ...]], large: Iterable[tuple[str, ...]] = ()
) -> str:
    """Hash rows regardless of their order: sort, then one BLAKE2b pass."""
    digest = hashlib.blake2b(digest_size=20, person=b"cisync-state")
    for group in (small, large):
        lines = sorted("\x1f".join(row) for row in group)
        for start in range(0, len(lines), 65536):
            digest.update("\n".join(lines[start : start + 65536]).encode())
            digest.update(b"\n")
        digest.update(b"\x1e")
    return digest.hexdigest()
