"""The report of a job's plan: built from the job's facts and the plan, before any write."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from cisync_lib.cmdb import DesiredState, Plan

from ._pipeline import destination_warnings, guard_decisions, plan_counts, plan_rows
from ._report import Mode, SyncReport

if TYPE_CHECKING:
    from ._job import SyncJob

__all__ = ["base_report"]


def base_report(
    job: SyncJob,
    mode: Mode,
    *,
    started: datetime,
    plan: Plan,
    desired: DesiredState | None = None,
) -> SyncReport:
    """The report of a plan, before anything is applied."""
    return SyncReport(
        connection=job.settings.connection,
        destination=job.destination.name,
        environment=job.destination.environment.value,
        mode=mode,
        outcome="planned",
        started_at=started,
        finished_at=datetime.now(timezone.utc),
        relationships=tuple(r.value for r in job.relationships),
        settings={
            name: {"value": item.value, "source": item.source}
            for name, item in job.effective.values.items()
        },
        counts=plan_counts(plan),
        actions=plan_rows(plan, desired or DesiredState()),
        guard=guard_decisions(plan.guard, force=False),
        plan_fingerprint=plan.fingerprint,
        warnings=(*plan.warnings, *destination_warnings(job.destination)),
        plan=plan,
    )
