"""The plan: what apply will do, and why. Frozen records, serialisable to JSON."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import field, frozen

from cisync_lib.errors import GuardRefusedError

from ._runstate import RunState
from ._state import ReadScope

__all__ = [
    "AddLink",
    "CreateApp",
    "CreateVendor",
    "FieldChange",
    "GuardReport",
    "PendingRemoval",
    "Plan",
    "RemoveLink",
    "RetireApp",
    "UpdateApp",
]


@frozen(kw_only=True)
class FieldChange:
    """One field's old and new raw value."""

    field: str
    old: str
    new: str


@frozen(kw_only=True)
class CreateVendor:
    """Insert a vendor company (only with ``create_vendors``)."""

    sys_id: str
    name: str


@frozen(kw_only=True)
class CreateApp:
    """Insert a Business Application CI.

    Attributes:
        sys_id: the sys_id it will get (derived from its correlation id, so a
            repeated insert can never create a second CI).
        app_id: Defender's app id.
        values: every field to set.
    """

    sys_id: str
    app_id: str
    values: Mapping[str, str]

    @property
    def name(self) -> str:
        """The app's name."""
        return self.values.get("name", "")


@frozen(kw_only=True)
class UpdateApp:
    """Change some fields of an existing CI.

    Attributes:
        sys_id: the CI.
        app_id: Defender's app id.
        name: the CI's name (for display).
        changes: only the changed fields, with old and new values.
        adopted: the CI is adopted by exact name (it gets our correlation id).
        revived: the CI was retired and is discovered again.
    """

    sys_id: str
    app_id: str
    name: str
    changes: tuple[FieldChange, ...]
    adopted: bool = False
    revived: bool = False


@frozen(kw_only=True)
class RetireApp:
    """Retire a managed CI no longer discovered or no longer within the filters.

    Attributes:
        sys_id: the CI.
        app_id: Defender's app id.
        name: the CI's name.
        changes: the status change(s).
        reason: why (missed runs, filter).
    """

    sys_id: str
    app_id: str
    name: str
    changes: tuple[FieldChange, ...]
    reason: str = ""


@frozen(kw_only=True)
class AddLink:
    """Link a user to an app.

    Attributes:
        app_id: Defender's app id.
        ci: the app CI's sys_id (that of a CI created by this plan for a new app).
        user: the ``sys_user`` sys_id.
        new_app: the CI is created by this plan.
    """

    app_id: str
    ci: str
    user: str
    new_app: bool = False


@frozen(kw_only=True)
class RemoveLink:
    """Delete one user-link row.

    Attributes:
        sys_id: the link row.
        ci: the app CI.
        user: the user.
        app_id: Defender's app id ("" if unknown).
        reason: ``stale``, ``duplicate`` or ``user_sync_off``.
    """

    sys_id: str
    ci: str
    user: str
    app_id: str = ""
    reason: str = "stale"


@frozen(kw_only=True)
class PendingRemoval:
    """An app or link missing from the source but still inside its grace period."""

    kind: str  # "app" or "link"
    key: str
    app_id: str
    missed_runs: int
    first_missed_at: datetime


@frozen(kw_only=True)
class GuardReport:
    """The blast-radius guard's verdict on a plan.

    Attributes:
        retire_count: apps the plan retires.
        managed_apps: live apps the library manages.
        max_retire_percent: the limit.
        unlink_count: links the plan removes (duplicates excluded).
        managed_links: links the library may remove.
        max_unlink_percent: the limit.
        min_count: removals up to this many are always allowed.
    """

    retire_count: int = 0
    managed_apps: int = 0
    max_retire_percent: float = 10.0
    unlink_count: int = 0
    managed_links: int = 0
    max_unlink_percent: float = 20.0
    min_count: int = 0

    def _over(self, count: int, managed: int, limit: float) -> bool:
        if count <= self.min_count or count == 0:
            return False
        return managed == 0 or 100.0 * count / managed > limit

    @property
    def refuses_retire(self) -> bool:
        """Whether the retire share is over the limit."""
        return self._over(self.retire_count, self.managed_apps, self.max_retire_percent)

    @property
    def refuses_unlink(self) -> bool:
        """Whether the unlink share is over the limit."""
        return self._over(self.unlink_count, self.managed_links, self.max_unlink_percent)

    def check(self, force: bool = False) -> None:
        """Raise unless the plan is within the limits (or ``force`` is set).

        Raises:
            GuardRefusedError: saying how much and how to force.
        """
        if force:
            return
        if self.refuses_retire:
            raise GuardRefusedError(
                what="retire apps",
                count=self.retire_count,
                managed=self.managed_apps,
                limit_percent=self.max_retire_percent,
                force_hint="apply with force=True (CLI: --force), or raise max_retire_percent",
            )
        if self.refuses_unlink:
            raise GuardRefusedError(
                what="remove user links",
                count=self.unlink_count,
                managed=self.managed_links,
                limit_percent=self.max_unlink_percent,
                force_hint="apply with force=True (CLI: --force), or raise max_unlink_percent",
            )


@frozen(kw_only=True)
class Plan:
    """Every change apply will make, computed from a fingerprinted state.

    Attributes:
        fingerprint: the fingerprint of the state the plan was computed from.
        created_at: when it was computed (also the timestamps it writes).
        app_class: the CI class.
        link_table: the user-link table.
        rel_type: the relationship type's sys_id (None when links are not planned).
        scope: the rows read, to re-read them at apply time.
        vendors: vendor companies to insert.
        creates: CIs to insert.
        updates: CIs to change.
        retires: CIs to retire.
        unchanged_apps: app ids whose CI needs nothing.
        add_links: links to insert.
        remove_links: link rows to delete.
        unchanged_links: app id -> links already right.
        pending: removals waiting for their grace period.
        guard: the blast-radius guard's verdict.
        warnings: anything the caller should know (missing choices, ambiguity).
        run_state: the run state to save before applying this plan.
        held_links: existing links of ours kept without evaluation, because some
            users of their app could not be looked up (``DesiredState.links_unknown``).
        partial: what the run that made this plan could not evaluate (the job's
            ``SyncReport.partial``), empty when it evaluated everything; a plan
            applied later leaves that undone too, so its run is ``partial`` as well.
        instance_url: the ServiceNow instance the plan was made for, recorded by the
            sync job that made it (``None``: not recorded, e.g. a plan straight from
            :func:`make_plan`); ``SyncJob.apply`` refuses a plan made for another one.
        environment: the environment (``test`` or ``prod``) the plan was made for,
            recorded and checked the same way.
    """

    fingerprint: str
    created_at: datetime
    app_class: str = "cmdb_ci_business_app"
    link_table: str = "cmdb_rel_person"
    rel_type: str | None = None
    scope: ReadScope = field(factory=ReadScope)
    vendors: tuple[CreateVendor, ...] = ()
    creates: tuple[CreateApp, ...] = ()
    updates: tuple[UpdateApp, ...] = ()
    retires: tuple[RetireApp, ...] = ()
    unchanged_apps: tuple[str, ...] = ()
    add_links: tuple[AddLink, ...] = ()
    remove_links: tuple[RemoveLink, ...] = ()
    unchanged_links: Mapping[str, int] = field(factory=dict)
    pending: tuple[PendingRemoval, ...] = ()
    guard: GuardReport = field(factory=GuardReport)
    warnings: tuple[str, ...] = ()
    run_state: RunState = field(factory=RunState)
    held_links: int = 0
    partial: Mapping[str, Any] = field(factory=dict)
    instance_url: str | None = None
    environment: str | None = None

    @property
    def write_count(self) -> int:
        """How many records apply will write."""
        return (
            len(self.vendors)
            + len(self.creates)
            + len(self.updates)
            + len(self.retires)
            + len(self.add_links)
            + len(self.remove_links)
        )

    @property
    def is_empty(self) -> bool:
        """True when applying would write nothing."""
        return self.write_count == 0
