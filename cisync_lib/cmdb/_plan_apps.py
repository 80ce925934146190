"""Planning the Business Application CIs: create, adopt, update, retire (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from attrs import define, field

from ._actions import CreateApp, CreateVendor, FieldChange, PendingRemoval, RetireApp, UpdateApp
from ._config import CmdbConfig, FieldPolicy
from ._desired import DesiredApp, DesiredState
from ._ids import record_sys_id
from ._limits import fit_apps
from ._runstate import MissEntry, RunState
from ._state import DEFAULT_LIMITS, AppRow, CurrentState, FieldLimits

__all__ = ["AppPlan", "SN_TIME", "grace_over", "plan_apps"]

SN_TIME = "%Y-%m-%d %H:%M:%S"
#: base cmdb_ci operational_status values, used only when sys_choice lacks the label
_FALLBACK_STATUS = {"Operational": "1", "Retired": "6"}


@define
class AppPlan:
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


def grace_over(entry: MissEntry, now: datetime, config: CmdbConfig) -> bool:
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
        self.stamp = now.strftime(SN_TIME)
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
            seen = datetime.strptime(last, SN_TIME).replace(tzinfo=self.now.tzinfo)
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


def plan_apps(
    desired: DesiredState,
    state: CurrentState,
    config: CmdbConfig,
    run_state: RunState,
    now: datetime,
    limits: FieldLimits = DEFAULT_LIMITS,
) -> AppPlan:
    """Compare desired apps with the CIs read; see :func:`~cisync_lib.cmdb.make_plan`."""
    out = AppPlan()
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
    out: AppPlan,
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
        entry = (
            entry.missed_again(run, run_state.completed_runs)
            if entry is not None
            else MissEntry.first(now, run)
        )
        out.missing[app_id] = entry
        if grace_over(entry, now, config):
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
