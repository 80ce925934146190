"""Applying a job's plan: the guard, the CMDB writer, the run state, and the report's outcome."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import attrs

from cisync_lib.cmdb import ApplyProgress, ApplyResult, CurrentState, Plan, apply
from cisync_lib.errors import GuardRefusedError

from ._pipeline import guard_decisions, plan_counts
from ._report import SyncReport

if TYPE_CHECKING:
    from ._job import SyncJob

__all__ = ["apply_plan", "written_counts"]


def written_counts(result: ApplyResult) -> dict[str, int]:
    """Writes made per action key (the keys of the plan's counts)."""
    return {
        "create_app": result.apps_created,
        "update_app": result.apps_updated,
        "retire_app": result.apps_retired,
        "add_link": result.links_added,
        "remove_link": result.links_removed,
        "create_vendor": result.vendors_created,
    }


def apply_plan(
    job: SyncJob,
    plan: Plan,
    report: SyncReport,
    *,
    force: bool,
    state: CurrentState | None = None,
) -> SyncReport:
    """Apply ``plan`` for ``job`` and return ``report`` completed with what was written.

    A refusal by the blast-radius guard is not an exception here: the report
    comes back with outcome ``refused`` and nothing written.

    Raises:
        StalePlanError: the instance changed since the plan was made (``state`` not given).
        ApplyError: some writes failed; the rest were applied.
    """
    timings = dict(report.timings)
    before = job.destination.connection.request_count
    throttled = int(getattr(job.destination.connection, "throttled", 0))
    start = time.perf_counter()

    def progress(p: ApplyProgress) -> None:
        if p.phase != "check":
            job._tell("apply", p.done, p.total)

    store = job._run_state_store
    try:
        result = apply(
            plan,
            job.destination.connection,
            job.cmdb_config,
            on_stale="refuse",
            state=state,
            run_state=store,
            force=force,
            progress=progress,
        )
    except GuardRefusedError as exc:
        return attrs.evolve(
            report,
            mode="apply",
            outcome="refused",
            error=str(exc),
            guard=guard_decisions(plan.guard, force=False),
            finished_at=datetime.now(timezone.utc),
        )
    if store is None:
        job._memory_state = result.plan.run_state.committed()
    timings["apply"] = time.perf_counter() - start
    requests = dict(report.requests)
    requests["servicenow"] = requests.get("servicenow", 0) + (
        job.destination.connection.request_count - before
    )
    throttled = int(getattr(job.destination.connection, "throttled", 0)) - throttled
    if throttled:
        requests["servicenow_throttled"] = requests.get("servicenow_throttled", 0) + throttled
    return attrs.evolve(
        report,
        mode="apply",
        outcome="partial" if report.partial else "applied",
        counts=plan_counts(result.plan),
        written=written_counts(result),
        guard=guard_decisions(result.plan.guard, force=force),
        timings=timings,
        requests=requests,
        finished_at=datetime.now(timezone.utc),
        plan=result.plan,
    )
