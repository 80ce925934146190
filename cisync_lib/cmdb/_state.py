"""What the instance holds now: the rows the planner compares against, and their fingerprint."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime

from attrs import field, frozen

__all__ = [
    "DEFAULT_LIMITS",
    "AppRow",
    "CurrentState",
    "FieldLimits",
    "LinkRow",
    "ReadScope",
    "fingerprint_rows",
]


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
class FieldLimits:
    """The lengths of the string columns the library fills from Defender data.

    Attributes:
        app_name: the app class's ``name``.
        correlation_id: the app class's ``correlation_id``.
        description: the app class's description field.
        vendor_name: the vendor table's ``name``.
        source: ``instance`` (read this run), ``run_state`` (cached) or ``default``.
    """

    app_name: int = 255
    correlation_id: int = 100
    description: int = 1000
    vendor_name: int = 100
    source: str = "default"

    def to_json(self) -> dict[str, int]:
        """The lengths (for the run-state file)."""
        return {
            "app_name": self.app_name,
            "correlation_id": self.correlation_id,
            "description": self.description,
            "vendor_name": self.vendor_name,
        }

    @classmethod
    def from_json(cls, data: object, *, source: str = "run_state") -> FieldLimits | None:
        """Read :meth:`to_json` output; ``None`` for anything unusable (re-read next run)."""
        if not isinstance(data, Mapping):
            return None
        try:
            values = {k: int(data[k]) for k in ("app_name", "correlation_id", "description")}
            values["vendor_name"] = int(data["vendor_name"])
        except (KeyError, TypeError, ValueError):
            return None
        if min(values.values()) < 1:
            return None
        return cls(**values, source=source)


#: ServiceNow's out-of-box lengths, used when neither the instance nor the run state says
DEFAULT_LIMITS = FieldLimits()


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
        field_limits: the column lengths read from ``sys_dictionary`` this run
            (``None``: not read, or the dictionary could not be read).
        limits_unreadable: the lengths were asked for but ``sys_dictionary`` could
            not be read (the plan then says which lengths it used).
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
    field_limits: FieldLimits | None = None
    limits_unreadable: bool = False
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
