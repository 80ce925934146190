"""Plan and apply Business Application CIs and their user links (``cmdb_rel_person``).

The flow is ``read_state`` -> ``DesiredState.build`` -> ``make_plan`` (pure) ->
``apply`` (the only writer). A plan is JSON-serialisable, renders as a
readable diff and carries the fingerprint of the state it was computed from.
"""

from ._actions import GuardReport, Plan
from ._apply import ApplyProgress, ApplyResult, apply
from ._config import (
    AppScope,
    CmdbConfig,
    FieldPolicy,
    GracePolicy,
    GuardPolicy,
    LinkOwnership,
    ScopePolicy,
    WritePath,
)
from ._desired import DesiredState
from ._execute import count_written
from ._ire import ire_preflight
from ._plan import make_plan
from ._read import PrefetchedRows, prefetch_state, read_state
from ._render import render_plan
from ._runstate import RunState, RunStateStore
from ._serial import dump_plan, load_plan, plan_from_json, plan_to_json
from ._state import CurrentState

__all__ = [
    # the flow: read, plan, review, apply
    "read_state",
    "prefetch_state",
    "make_plan",
    "render_plan",
    "apply",
    "ire_preflight",
    "count_written",
    # plan files
    "dump_plan",
    "load_plan",
    "plan_to_json",
    "plan_from_json",
    # configuration and policies
    "CmdbConfig",
    "FieldPolicy",
    "GracePolicy",
    "GuardPolicy",
    "LinkOwnership",
    "WritePath",
    "ScopePolicy",
    "AppScope",
    # the states compared, and the grace-period bookkeeping
    "DesiredState",
    "CurrentState",
    "PrefetchedRows",
    "RunState",
    "RunStateStore",
    # the plan and the blast-radius guard's verdict on it
    "Plan",
    "GuardReport",
    # what apply reports
    "ApplyResult",
    "ApplyProgress",
]
