"""Errors about planning, applying and querying the CMDB."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from ._errors import CisyncError

__all__ = [
    "ApplyError",
    "CmdbSetupError",
    "GuardRefusedError",
    "PlanError",
    "StalePlanError",
    "UnsafeQueryError",
]


# --- planning and applying -------------------------------------------------------


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class PlanError(CisyncError):
    """Base for errors about a plan and its application."""


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class StalePlanError(PlanError):
    """The instance changed since the plan was made; the plan was not applied.

    Attributes:
        expected: the fingerprint the plan was computed from.
        actual: the fingerprint of the state read now.
        expected_runs: the completed runs of the run state the plan was computed from.
        actual_runs: the completed runs of the job's run state now (``None``: not checked).
        next_step: what to do about it, in the caller's terms (the ``cisync`` command
            names the commands to run); empty: the Python API's advice.
    """

    expected: str = ""
    actual: str = ""
    expected_runs: int | None = None
    actual_runs: int | None = None
    next_step: str = ""

    def _describe(self) -> str:
        step = self.next_step or "plan again (or apply with on_stale='replan')"
        if self.expected == self.actual and self.actual_runs is not None:
            # its grace-period bookkeeping would rewind that of the runs since
            return (
                f"the plan was computed from the run state after {self.expected_runs} run(s), "
                f"but {self.actual_runs} run(s) have completed since; nothing was written; "
                f"{step}"
            )
        return (
            f"the plan was computed from state {self.expected[:12]} but the instance is now at "
            f"{self.actual[:12]}; nothing was written; {step}"
        )


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class GuardRefusedError(PlanError):
    """A blast-radius guard refused a run that would remove too much.

    Attributes:
        what: ``retire apps`` or ``remove links``.
        count: how many the run would retire or remove.
        managed: how many are managed in total.
        limit_percent: the configured limit.
        force_hint: how to go ahead anyway.
    """

    what: str = ""
    count: int = 0
    managed: int = 0
    limit_percent: float = 0.0
    force_hint: str = "pass force=True (CLI: --force)"

    def _describe(self) -> str:
        share = 100.0 * self.count / self.managed if self.managed else 100.0
        return (
            f"refused to {self.what}: {self.count} of {self.managed} managed "
            f"({share:.1f}%) is over the {self.limit_percent:g}% limit; nothing was written. "
            f"If this is intended, {self.force_hint}"
        )


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class ApplyError(PlanError):
    """Apply finished with writes that failed or whose outcome could not be settled.

    Everything else in the plan was applied; re-running converges (a new plan
    contains exactly what is still missing).

    Attributes:
        done: writes that succeeded.
        failed: writes that failed, stayed unresolved or were not attempted.
        problems: one line per failed write (table, sys_id, status, detail).
        stopped: why apply stopped part-way (a late HTTP failure, the run state could
            not be saved, ...); empty when every write was attempted.
        fix: what to do about it.
    """

    done: int = 0
    failed: int = 0
    problems: Sequence[str] = ()
    stopped: str = ""
    fix: str = ""

    def _describe(self) -> str:
        if self.stopped:
            total = self.done + self.failed
            remains = f", {self.failed} not made or not confirmed" if self.failed else ", none left"
            return (
                f"apply stopped: {self.done} of {total} write(s) confirmed{remains}: "
                f"{self.stopped}. "
                f"{self.fix or 'Fix that and run again: the next plan holds exactly what is left.'}"
            )
        shown = "; ".join(self.problems[:5])
        more = f" (+{len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        return (
            f"apply incomplete: {self.failed} write(s) failed, {self.done} succeeded: "
            f"{shown}{more}. Run again to converge."
        )


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class CmdbSetupError(CisyncError):
    """The instance lacks something the CMDB writer needs; nothing was written.

    Attributes:
        problem: what is missing.
        fix: how an administrator sets it up.
    """

    problem: str = ""
    fix: str = ""

    def _describe(self) -> str:
        return f"{self.problem}. To fix: {self.fix}"


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class UnsafeQueryError(CisyncError, ValueError):
    """A value cannot be put into a ServiceNow encoded query without changing its meaning.

    Attributes:
        field: the field the condition is on.
        value: the offending value.
        problem: why it was refused.
    """

    field: str = ""
    value: str = ""
    problem: str = ""

    def _describe(self) -> str:
        return f"encoded query on {self.field!r}: {self.problem} (value {self.value!r})"
