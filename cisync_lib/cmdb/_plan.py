"""make_plan: desired state against current state, pure and deterministic.

Apps first (create, adopt, update, retire), then user links (add, heal
duplicates, remove after the grace period), which need to know each desired
app's CI; then the blast-radius guard's verdict on both. No I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone

from attrs import define, field

from cisync_lib.errors import CmdbSetupError

from ._actions import (
    AddLink,
    CreateApp,
    CreateVendor,
    FieldChange,
    GuardReport,
    PendingRemoval,
    Plan,
    RemoveLink,
    RetireApp,
    UpdateApp,
)
from ._config import CmdbConfig, FieldPolicy, LinkOwnership
from ._desired import DesiredApp, DesiredState
from ._ids import record_sys_id
from ._limits import fit_apps
from ._runstate import MissEntry, RunState
from ._state import DEFAULT_LIMITS, AppRow, CurrentState, FieldLimits, LinkRow

__all__ = ["make_plan"]


def make_plan(
    desired: DesiredState,
    state: CurrentState,
    config: CmdbConfig | None = None,
    run_state: RunState | None = None,
    *,
    now: datetime | None = None,
) -> Plan:
    """Compute every change needed to make the instance match ``desired``.

    Pure: no I/O, and the same inputs give the same plan. Apps are matched by
    correlation id, then (if configured) adopted by exact name; only fields
    the field policy owns are compared. Managed apps and our links missing
    from the source are retired or removed only after the grace period, never
    when the source read was incomplete or empty. The blast-radius guard's
    verdict is recorded in ``plan.guard`` and enforced by apply.

    Args:
        desired: what the CMDB should hold.
        state: what the instance holds (from :func:`read_state`).
        config: the CMDB config.
        run_state: the job's grace-period bookkeeping (a fresh one if None).
        now: the time written into timestamps (default: now, UTC).

    Raises:
        CmdbSetupError: links are planned but the relationship type is missing.
    """
    config = config or CmdbConfig()
    run_state = run_state or RunState()
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    # this run's column lengths, else the last ones read, else ServiceNow's defaults
    limits = state.field_limits or run_state.field_limits or DEFAULT_LIMITS
    apps = _plan_apps(desired, state, config, run_state, now, limits)
    if state.limits_unreadable and desired.apps:
        saved = (
            "those saved by an earlier run" if run_state.field_limits else "ServiceNow's defaults"
        )
        apps.warnings.append(
            f"column lengths were not read from sys_dictionary (no read access?); using {saved}"
        )
    links = _plan_links(desired, state, config, run_state, now, apps)
    unlinks = sum(1 for r in links.removes if r.reason != "duplicate")
    guard = GuardReport(
        retire_count=len(apps.retires),
        managed_apps=apps.live_managed,
        max_retire_percent=config.guard.max_retire_percent,
        unlink_count=unlinks,
        managed_links=links.owned_total,
        max_unlink_percent=config.guard.max_unlink_percent,
        min_count=config.guard.min_count,
    )
    next_state = RunState(
        completed_runs=run_state.completed_runs,
        integration_user=run_state.integration_user,
        missing_apps=apps.missing,
        missing_links=links.missing,
        field_limits=limits,
    )
    return Plan(
        fingerprint=state.fingerprint,
        created_at=now,
        app_class=config.app_class,
        link_table=config.link_table,
        rel_type=state.rel_type if state.links_read else None,
        scope=state.scope,
        vendors=tuple(apps.vendors),
        creates=tuple(apps.creates),
        updates=tuple(apps.updates),
        retires=tuple(apps.retires),
        unchanged_apps=tuple(apps.unchanged),
        add_links=tuple(links.adds),
        remove_links=tuple(links.removes),
        unchanged_links=links.unchanged,
        pending=tuple(apps.pending + links.pending),
        guard=guard,
        warnings=tuple(apps.warnings + links.warnings),
        run_state=next_state,
        held_links=links.held,
    )


# --- the Business Application CIs: create, adopt, update, retire ---------------------

_SN_TIME = "%Y-%m-%d %H:%M:%S"
#: base cmdb_ci operational_status values, used only when sys_choice lacks the label
_FALLBACK_STATUS = {"Operational": "1", "Retired": "6"}


@define
class _AppPlan:
    """The app half of a plan, plus what the link planner needs from it."""

    vendors: list[CreateVendor] = field(factory=list)
    creates: list[CreateApp] = field(factory=list)
    updates: list[UpdateApp] = field(factory=list)
    retires: list[RetireApp] = field(factory=list)
    unchanged: list[str] = field(factory=list)
    pending: list[PendingRemoval] = field(factory=list)
    warnings: list[str] = field(factory=list)
    missing: dict[str, MissEntry] = field(factory=dict)
    #: app id -> (CI sys_id, created by this plan) for every desired app
    ci_of: dict[str, tuple[str, bool]] = field(factory=dict)
    #: CI sys_id -> app id for every CI in the managed scope (after adoption)
    managed_cis: dict[str, str] = field(factory=dict)
    live_managed: int = 0
    #: desired apps refused by the field rule: app id -> why (never written, never retired)
    refused: dict[str, str] = field(factory=dict)


def _grace_over(entry: MissEntry, now: datetime, config: CmdbConfig) -> bool:
    """Whether an item with these observed misses (this run's included) may be removed now."""
    long_enough = now - entry.first_missed_at >= timedelta(days=config.grace.days)
    return entry.misses > config.grace.runs and long_enough


def _choice(state: CurrentState, element: str, label: str, warnings: list[str]) -> str | None:
    labels = state.choices.get(element, {})
    if label in labels:
        return labels[label]
    folded = {k.casefold(): v for k, v in labels.items()}
    if label.casefold() in folded:
        return folded[label.casefold()]
    fallback = _FALLBACK_STATUS.get(label) if element == "operational_status" else None
    where = f"sys_choice has no {element} choice labelled {label!r}"
    warnings.append(f"{where}; using {fallback!r}" if fallback else f"{where}; field left as is")
    return fallback


class _Resolver:
    """Field values and vendor references for one planning run."""

    def __init__(self, state: CurrentState, config: CmdbConfig, now: datetime) -> None:
        self.state, self.config, self.now = state, config, now
        self.warnings: list[str] = []
        self.stamp = now.strftime(_SN_TIME)
        self.app_type = _choice(
            state, "application_type", config.application_type_label, self.warnings
        )
        self.install = _choice(state, "install_type", config.install_type_label, self.warnings)
        self.live = _choice(state, "operational_status", config.operational_label, self.warnings)
        self.retired = _choice(state, "operational_status", config.retired_label, self.warnings)
        self.new_vendors: dict[str, CreateVendor] = {}
        field_name = config.description_field
        self.desc_policy = config.field_policy.get(field_name) or config.policy("short_description")

    def vendor(self, name: str | None) -> str | None:
        if not name:
            return None
        if name in self.state.vendors:
            return self.state.vendors[name]
        if not self.config.create_vendors:
            return None
        if name not in self.new_vendors:
            sys_id = record_sys_id(self.config.vendor_table, name)
            self.new_vendors[name] = CreateVendor(sys_id=sys_id, name=name)
        return self.new_vendors[name].sys_id

    def policy(self, name: str) -> FieldPolicy:
        if name == self.config.description_field:
            return self.desc_policy
        return self.config.policy(name)

    def owned(self, app: DesiredApp) -> dict[str, str]:
        """Values of the fields written on every run (policy ALWAYS)."""
        values = {
            "name": app.name,
            self.config.description_field: app.description,
            "application_type": self.app_type,
            "install_type": self.install,
            "vendor": self.vendor(app.vendor),
            "discovery_source": self.config.discovery_source,
        }
        return {k: v for k, v in values.items() if v is not None}

    def stale(self, last: str) -> bool:
        try:
            seen = datetime.strptime(last, _SN_TIME).replace(tzinfo=self.now.tzinfo)
        except ValueError:
            return True
        return self.now - seen >= self.config.heartbeat


def _insert_values(r: _Resolver, app: DesiredApp, correlation_id: str) -> dict[str, str]:
    values = {k: v for k, v in r.owned(app).items() if r.policy(k) is not FieldPolicy.NEVER}
    for name, value in (
        ("operational_status", r.live),
        ("first_discovered", r.stamp),
        ("last_discovered", r.stamp),
    ):
        if value is not None and r.policy(name) is not FieldPolicy.NEVER:
            values[name] = value
    values["correlation_id"] = correlation_id
    return values


def _changes(r: _Resolver, app: DesiredApp, row: AppRow, correlation_id: str) -> list[FieldChange]:
    current = {**row.values, "name": row.name}
    changes = [
        FieldChange(field=k, old=current.get(k, ""), new=v)
        for k, v in r.owned(app).items()
        if r.policy(k) is FieldPolicy.ALWAYS and current.get(k, "") != v
    ]
    if row.correlation_id != correlation_id:
        changes.append(
            FieldChange(field="correlation_id", old=row.correlation_id, new=correlation_id)
        )
    status = current.get("operational_status", "")
    if (
        r.live
        and r.retired
        and status == r.retired
        and r.policy("operational_status") is FieldPolicy.ALWAYS
    ):
        changes.append(FieldChange(field="operational_status", old=status, new=r.live))
    last = current.get("last_discovered", "")
    if r.policy("last_discovered") is FieldPolicy.ALWAYS and r.stale(last):
        changes.append(FieldChange(field="last_discovered", old=last, new=r.stamp))
    return changes


def _plan_apps(
    desired: DesiredState,
    state: CurrentState,
    config: CmdbConfig,
    run_state: RunState,
    now: datetime,
    limits: FieldLimits = DEFAULT_LIMITS,
) -> _AppPlan:
    """Compare desired apps with the CIs read; see :func:`~cisync_lib.cmdb.make_plan`."""
    out = _AppPlan()
    # values are cleaned and cut to the instance's columns, so what is compared next run is
    # what the instance stored; apps that cannot be stored at all are refused, alone
    wanted, out.refused, notes = fit_apps(desired.apps, limits, config)
    out.warnings.extend(notes)
    r = _Resolver(state, config, now)
    prefix = config.correlation_prefix
    managed: dict[str, AppRow] = {}
    candidates: dict[str, list[AppRow]] = {}
    for row in sorted(state.apps, key=lambda a: a.sys_id):
        if row.correlation_id.startswith(prefix):
            app_id = row.correlation_id[len(prefix) :]
            if app_id in managed:
                out.warnings.append(
                    f"CIs {managed[app_id].sys_id} and {row.sys_id} share correlation id "
                    f"{row.correlation_id!r}; only the first is managed"
                )
                continue
            managed[app_id] = row
        elif not row.correlation_id and config.adopt_by_name:
            candidates.setdefault(row.name, []).append(row)
    for app_id, row in managed.items():
        out.managed_cis[row.sys_id] = app_id
        if row.values.get("operational_status", "") != r.retired:
            out.live_managed += 1

    for app_id in sorted(wanted):
        app = wanted[app_id]
        correlation_id = prefix + app_id
        found: AppRow | None = managed.get(app_id)
        adopted = False
        if found is None and candidates.get(app.name):
            pool = candidates[app.name]
            found = pool.pop(0)  # lowest sys_id: deterministic
            adopted = True
            if pool:
                out.warnings.append(
                    f"{len(pool) + 1} CIs are named {app.name!r}; "
                    f"adopted {found.sys_id} for app {app_id}"
                )
            out.managed_cis[found.sys_id] = app_id
        if found is None:
            sys_id = record_sys_id(config.app_class, correlation_id)
            out.creates.append(
                CreateApp(
                    sys_id=sys_id, app_id=app_id, values=_insert_values(r, app, correlation_id)
                )
            )
            out.ci_of[app_id] = (sys_id, True)
            continue
        out.ci_of[app_id] = (found.sys_id, False)
        changes = _changes(r, app, found, correlation_id)
        if changes:
            revived = any(c.field == "operational_status" for c in changes)
            out.updates.append(
                UpdateApp(
                    sys_id=found.sys_id,
                    app_id=app_id,
                    name=found.name,
                    changes=tuple(changes),
                    adopted=adopted,
                    revived=revived,
                )
            )
        else:
            out.unchanged.append(app_id)

    _plan_missing(desired, managed, r, config, run_state, now, out)
    out.vendors = sorted(r.new_vendors.values(), key=lambda v: v.name)
    out.warnings[:0] = r.warnings
    return out


def _plan_missing(
    desired: DesiredState,
    managed: Mapping[str, AppRow],
    r: _Resolver,
    config: CmdbConfig,
    run_state: RunState,
    now: datetime,
    out: _AppPlan,
) -> None:
    """Retire (after the grace period) managed apps the source no longer justifies."""
    counting = desired.source_complete and desired.source_app_count > 0
    if not counting:
        why = (
            "the source read was incomplete"
            if not desired.source_complete
            else "the source returned no apps"
        )
        out.warnings.append(f"{why}: no app is retired and no grace period advances")
    run = run_state.current_run
    for app_id in sorted(set(managed) - set(desired.apps)):
        row = managed[app_id]
        status = row.values.get("operational_status", "")
        if r.retired is None or status == r.retired:
            continue  # already retired: nothing to count
        entry = run_state.missing_apps.get(app_id)
        if not counting:  # this run did not observe the app: its count stands still
            if entry is not None:
                out.missing[app_id] = entry.carried(run_state.completed_runs)
            continue
        entry = MissEntry.missed(entry, now, run, run_state.completed_runs)
        out.missing[app_id] = entry
        if _grace_over(entry, now, config):
            reason = desired.excluded.get(app_id, "no longer discovered in the report period")
            out.retires.append(
                RetireApp(
                    sys_id=row.sys_id,
                    app_id=app_id,
                    name=row.name,
                    changes=(FieldChange(field="operational_status", old=status, new=r.retired),),
                    reason=f"{reason} (missed {entry.misses} run(s))",
                )
            )
        else:
            out.pending.append(
                PendingRemoval(
                    kind="app",
                    key=row.sys_id,
                    app_id=app_id,
                    missed_runs=entry.misses,
                    first_missed_at=entry.first_missed_at,
                )
            )


# --- user links: add, heal duplicates, remove after the grace period -----------------


@define
class _LinkPlan:
    """The link half of a plan."""

    adds: list[AddLink] = field(factory=list)
    removes: list[RemoveLink] = field(factory=list)
    unchanged: dict[str, int] = field(factory=dict)
    pending: list[PendingRemoval] = field(factory=list)
    warnings: list[str] = field(factory=list)
    missing: dict[str, MissEntry] = field(factory=dict)
    owned_total: int = 0
    #: our links on apps whose users were not all looked up: kept, not evaluated
    held: int = 0


def _missing_type(config: CmdbConfig) -> CmdbSetupError:
    return CmdbSetupError(
        problem=(
            f"the instance has no {config.rel_type_table} record named {config.rel_type_name!r}, "
            "so user links cannot be written"
        ),
        fix=(
            f"as an administrator, create it in {config.rel_type_table} (name "
            f"{config.rel_type_name!r}, parent descriptor {config.rel_type_name!r}, child "
            "descriptor 'Uses'), or set rel_type_name to an existing type"
        ),
    )


def _plan_links(
    desired: DesiredState,
    state: CurrentState,
    config: CmdbConfig,
    run_state: RunState,
    now: datetime,
    apps: _AppPlan,
) -> _LinkPlan:
    """Compare desired (app, user) pairs with the link rows read."""
    out = _LinkPlan()
    if not state.links_read:
        out.missing = {
            k: e.carried(run_state.completed_runs) for k, e in run_state.missing_links.items()
        }
        if desired.sync_users:
            out.warnings.append(
                "user links were not read, so none is planned; read the state with the "
                "desired state (read_state(conn, config, desired))"
            )
        return out
    if state.rel_type is None:
        raise _missing_type(config)
    owner = config.integration_user or state.integration_user or run_state.integration_user
    by_ownership = config.link_ownership is LinkOwnership.SCOPE
    if not by_ownership and owner is None:
        out.warnings.append(
            "the integration user is unknown, so no existing link counts as ours and none is "
            "removed; set integration_user in the CMDB config"
        )

    def owned(row: LinkRow) -> bool:
        return by_ownership or (owner is not None and row.created_by == owner)

    # rows on CIs outside the managed scope (e.g. candidates not adopted) are not ours to judge
    rows: dict[tuple[str, str], list[LinkRow]] = {}
    for row in state.links:
        if row.ci in apps.managed_cis:
            rows.setdefault((row.ci, row.user), []).append(row)

    def ours(row: LinkRow) -> bool:
        # healing a duplicate is cosmetic: it may only ever delete a row this integration
        # created, whatever link_ownership says about stale links
        return owner is not None and row.created_by == owner

    keep: dict[tuple[str, str], LinkRow] = {}
    kept_foreign: list[LinkRow] = []
    for key, group in rows.items():
        if len(group) > 1:
            group.sort(key=lambda r: (ours(r), r.sys_id))  # keep a person's row if any
            for extra in group[1:]:
                if not ours(extra):
                    kept_foreign.append(extra)  # someone else's row: reported, never deleted
                    continue
                out.removes.append(
                    RemoveLink(
                        sys_id=extra.sys_id,
                        ci=extra.ci,
                        user=extra.user,
                        app_id=apps.managed_cis.get(extra.ci, ""),
                        reason="duplicate",
                    )
                )
        keep[key] = group[0]
        if owned(group[0]):
            out.owned_total += 1

    if kept_foreign:
        listed = ", ".join(
            f"{config.link_table}/{r.sys_id}"
            for r in sorted(kept_foreign, key=lambda r: r.sys_id)[:5]
        )
        more = f" and {len(kept_foreign) - 5} more" if len(kept_foreign) > 5 else ""
        out.warnings.append(
            f"{len(kept_foreign)} duplicate user link(s) not created by the integration user "
            f"were left in place ({listed}{more}); only rows the integration created are ever "
            "deleted: remove these by hand if they are unwanted"
        )
    if desired.sync_users:
        for app_id in sorted(desired.links):
            if app_id not in apps.ci_of:
                continue  # a refused app: nothing is written for it
            ci, new = apps.ci_of[app_id]
            same = 0
            for user in sorted(desired.links[app_id]):
                if keep.pop((ci, user), None) is not None:
                    same += 1
                else:
                    out.adds.append(AddLink(app_id=app_id, ci=ci, user=user, new_app=new))
            if same:
                out.unchanged[app_id] = same
        _plan_stale(desired, config, run_state, now, apps, keep, owned, out)
    elif config.remove_links_when_user_sync_off:
        for (ci, user), row in sorted(keep.items()):
            if owned(row):
                out.removes.append(
                    RemoveLink(
                        sys_id=row.sys_id,
                        ci=ci,
                        user=user,
                        app_id=apps.managed_cis.get(ci, ""),
                        reason="user_sync_off",
                    )
                )
    return out


def _plan_stale(
    desired: DesiredState,
    config: CmdbConfig,
    run_state: RunState,
    now: datetime,
    apps: _AppPlan,
    left: dict[tuple[str, str], LinkRow],
    owned: Callable[[LinkRow], bool],
    out: _LinkPlan,
) -> None:
    """Links in scope the source no longer justifies: remove ours after the grace period."""
    counting = desired.source_complete and desired.source_app_count > 0
    counting = counting and desired.source_user_count > 0 and desired.links_complete
    if not counting and left:
        out.warnings.append(
            "the source gave no users, the read was incomplete or some user lookups failed: "
            "no link is removed and no grace period advances"
        )
    run = run_state.current_run
    unknown = desired.links_unknown
    held_apps: set[str] = set()
    for (ci, user), row in sorted(left.items()):
        if not owned(row):
            continue  # made by a person or another tool: never removed
        key = f"{ci}:{user}"
        entry = run_state.missing_links.get(key)
        app_id = apps.managed_cis.get(ci, "")
        if app_id in unknown:  # the user may be one whose lookup failed: unknown, not absent
            out.held += 1
            held_apps.add(app_id)
        # a refused app's links are not judged either: its users were not written this run
        if not counting or app_id in unknown or app_id in apps.refused:
            # this run did not observe the link: its count stands still
            if entry is not None:
                out.missing[key] = entry.carried(run_state.completed_runs)
            continue
        entry = MissEntry.missed(entry, now, run, run_state.completed_runs)
        out.missing[key] = entry
        if _grace_over(entry, now, config):
            out.removes.append(RemoveLink(sys_id=row.sys_id, ci=ci, user=user, app_id=app_id))
        else:
            out.pending.append(
                PendingRemoval(
                    kind="link",
                    key=key,
                    app_id=app_id,
                    missed_runs=entry.misses,
                    first_missed_at=entry.first_missed_at,
                )
            )
    if out.held:
        out.warnings.append(
            f"{out.held} existing user link(s) of {len(held_apps)} app(s) not evaluated: some "
            "of their users could not be looked up in sys_user; none is removed and no grace "
            "period advances for them"
        )
