"""make_plan: desired state against current state, pure and deterministic."""

from __future__ import annotations

from datetime import datetime, timezone

from ._actions import GuardReport, Plan
from ._config import CmdbConfig
from ._desired import DesiredState
from ._plan_apps import plan_apps
from ._plan_links import plan_links
from ._runstate import RunState
from ._state import DEFAULT_LIMITS, CurrentState

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
    apps = plan_apps(desired, state, config, run_state, now, limits)
    if state.limits_unreadable and desired.apps:
        saved = (
            "those saved by an earlier run" if run_state.field_limits else "ServiceNow's defaults"
        )
        apps.warnings.append(
            f"column lengths were not read from sys_dictionary (no read access?); using {saved}"
        )
    links = plan_links(desired, state, config, run_state, now, apps)
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
