"""The report of a job's plan: built from the job's facts and the plan, before any write."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from cisync_lib._records import SnUser
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
    people: Mapping[str, SnUser] | None = None,
    ci_names: Mapping[str, str] | None = None,
) -> SyncReport:
    """The report of a plan, before anything is applied.

    ``people`` (``sys_user`` sys_id -> user) and ``ci_names`` (CI sys_id -> name) put
    names next to the sys_ids of the planned changes, for people reviewing them.
    """
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
        actions=plan_rows(plan, desired or DesiredState(), people=people, ci_names=ci_names),
        guard=guard_decisions(plan.guard, force=False),
        plan_fingerprint=plan.fingerprint,
        warnings=(*plan.warnings, *destination_warnings(job.destination)),
        plan=plan,
        # a plan that left users unevaluated makes its run partial, even applied later
        partial=plan.partial,
    )
