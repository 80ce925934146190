"""Plan and apply Business Application CIs and their user links (``cmdb_rel_person``).

The flow is ``read_state`` -> ``DesiredState.build`` -> ``make_plan`` (pure) ->
``apply`` (the only writer). A plan is JSON-serialisable, renders as a
readable diff and carries the fingerprint of the state it was computed from.
"""

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
from ._apply import ApplyProgress, ApplyResult, apply
from ._config import (
    CURATED_FIELDS,
    DEFAULT_FIELD_POLICY,
    AppScope,
    CmdbConfig,
    FieldPolicy,
    GracePolicy,
    GuardPolicy,
    LinkOwnership,
    ScopePolicy,
    WritePath,
)
from ._desired import DefenderDataLike, DesiredApp, DesiredState, describe_app
from ._ire import ire_preflight
from ._limits import clean_text, read_field_limits
from ._plan import make_plan
from ._read import PrefetchedRows, prefetch_state, read_state
from ._render import render_plan
from ._runstate import MissEntry, RunState, RunStateStore
from ._serial import dump_plan, load_plan, plan_from_json, plan_to_json
from ._state import DEFAULT_LIMITS, AppRow, CurrentState, FieldLimits, LinkRow, ReadScope
from ._verify import count_written

__all__ = [
    "CURATED_FIELDS",
    "DEFAULT_FIELD_POLICY",
    "DEFAULT_LIMITS",
    "AddLink",
    "AppRow",
    "AppScope",
    "ApplyProgress",
    "ApplyResult",
    "CmdbConfig",
    "CreateApp",
    "CreateVendor",
    "CurrentState",
    "DefenderDataLike",
    "DesiredApp",
    "DesiredState",
    "FieldChange",
    "FieldLimits",
    "FieldPolicy",
    "GracePolicy",
    "GuardPolicy",
    "GuardReport",
    "LinkOwnership",
    "LinkRow",
    "MissEntry",
    "PendingRemoval",
    "Plan",
    "PrefetchedRows",
    "ReadScope",
    "RemoveLink",
    "RetireApp",
    "RunState",
    "RunStateStore",
    "ScopePolicy",
    "UpdateApp",
    "WritePath",
    "apply",
    "clean_text",
    "count_written",
    "describe_app",
    "dump_plan",
    "ire_preflight",
    "load_plan",
    "make_plan",
    "plan_from_json",
    "plan_to_json",
    "prefetch_state",
    "read_field_limits",
    "read_state",
    "render_plan",
]
