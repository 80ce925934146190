"""Resolve Defender user identifiers to ServiceNow ``sys_user`` records, explaining every miss.

Pipeline: parse and normalise each name (pure), dedupe, let every strategy
declare the keys it needs, fetch candidates once from a
:class:`~cisync_lib.typing.UserDirectory`, evaluate the chain per name, apply the decision
policy, report. See the docs pages "Correlating users" and "Writing a
correlation strategy". The Protocols a strategy or a directory implements
live in :mod:`cisync_lib.typing`.
"""

from ._aliasmap import AliasEntry, AliasMap
from ._chain import (
    ENTRY_POINT_GROUP,
    AliasMapStrategy,
    StrategyContext,
    Tier,
    available_strategies,
    build_chain,
    default_chain,
)
from ._codes import InputKind, ReasonCode, Status
from ._config import CorrelatorConfig
from ._correlator import Correlator, Plan
from ._directory import (
    DirectoryResult,
    FetchRequest,
    InMemoryUserDirectory,
    UserIndex,
)
from ._parse import ObservedName, ParsedName, normalize, parse
from ._report import REPORT_FIELDNAMES, CorrelationReport, ReportSummary, write_report_csv
from ._result import MatchResult, confidence_band
from ._servicenow import ServiceNowUserDirectory, is_query_safe
from ._strategies import (
    DomainAliasStrategy,
    DownlevelStrategy,
    EmailStrategy,
    LocalPartStrategy,
    PlusTagStripStrategy,
    ProxyAddressStrategy,
    UpnUserNameStrategy,
)
from ._types import (
    Evidence,
    KeyHit,
    LookupKey,
    StrategyOutcome,
    StrategyTrace,
    compare_keys,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "REPORT_FIELDNAMES",
    "AliasEntry",
    "AliasMap",
    "AliasMapStrategy",
    "CorrelationReport",
    "Correlator",
    "CorrelatorConfig",
    "DirectoryResult",
    "DomainAliasStrategy",
    "DownlevelStrategy",
    "EmailStrategy",
    "Evidence",
    "FetchRequest",
    "InMemoryUserDirectory",
    "InputKind",
    "KeyHit",
    "LocalPartStrategy",
    "LookupKey",
    "MatchResult",
    "ObservedName",
    "ParsedName",
    "Plan",
    "PlusTagStripStrategy",
    "ProxyAddressStrategy",
    "ReasonCode",
    "ReportSummary",
    "ServiceNowUserDirectory",
    "Status",
    "StrategyContext",
    "StrategyOutcome",
    "StrategyTrace",
    "Tier",
    "UpnUserNameStrategy",
    "UserIndex",
    "available_strategies",
    "build_chain",
    "compare_keys",
    "confidence_band",
    "default_chain",
    "is_query_safe",
    "normalize",
    "parse",
    "write_report_csv",
]
