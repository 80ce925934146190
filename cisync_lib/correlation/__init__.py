"""Resolve Defender user identifiers to ServiceNow ``sys_user`` records, explaining every miss.

Pipeline: parse and normalise each name (pure), dedupe, let every strategy
declare the keys it needs, fetch candidates once from a
:class:`~cisync_lib.typing.UserDirectory`, evaluate the chain per name, apply the decision
policy, report. See the docs pages "Correlating users" and "Writing a
correlation strategy". The Protocols a strategy or a directory implements
live in :mod:`cisync_lib.typing`.
"""

from ._aliasmap import AliasEntry, AliasMap
from ._chain import StrategyContext, Tier
from ._codes import InputKind, ReasonCode, Status
from ._config import CorrelatorConfig
from ._correlator import Correlator, LookupPlan
from ._directory import DirectoryResult, FetchRequest, InMemoryUserDirectory
from ._outcome import LookupKey, StrategyOutcome
from ._parse import ObservedName, ParsedName
from ._report import CorrelationReport, write_report_csv
from ._result import MatchResult
from ._servicenow import ServiceNowUserDirectory

__all__ = [
    "AliasEntry",
    "AliasMap",
    "CorrelationReport",
    "Correlator",
    "CorrelatorConfig",
    "DirectoryResult",
    "FetchRequest",
    "InMemoryUserDirectory",
    "InputKind",
    "LookupKey",
    "LookupPlan",
    "MatchResult",
    "ObservedName",
    "ParsedName",
    "ReasonCode",
    "ServiceNowUserDirectory",
    "Status",
    "StrategyContext",
    "StrategyOutcome",
    "Tier",
    "write_report_csv",
]
