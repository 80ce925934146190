"""Resolve Defender user identifiers to ServiceNow ``sys_user`` records, explaining every miss.

Pipeline: parse and normalise each name (pure), dedupe, let every strategy
declare the keys it needs, fetch candidates once from a
:class:`~cisync_lib.typing.UserDirectory`, evaluate the chain per name, apply the decision
policy, report. See the docs pages "Correlating users" and "Writing a
correlation strategy". The Protocols a strategy or a directory implements
live in :mod:`cisync_lib.typing`.
"""

from ._aliasmap import AliasEntry, AliasMap
from ._chain import AliasMapStrategy, StrategyContext, Tier
from ._codes import InputKind, ReasonCode, Status
from ._config import CorrelatorConfig
from ._correlator import Correlator, LookupPlan
from ._directory import DirectoryResult, FetchRequest, InMemoryUserDirectory
from ._outcome import LookupKey, StrategyOutcome
from ._parse import ObservedName, ParsedName
from ._report import CorrelationReport, write_report_csv
from ._result import MatchResult
from ._servicenow import ServiceNowUserDirectory
from ._strategies import (
    DomainAliasStrategy,
    DownlevelStrategy,
    EmailStrategy,
    LocalPartStrategy,
    PlusTagStripStrategy,
    ProxyAddressStrategy,
    UpnUserNameStrategy,
)

__all__ = [
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
    "FetchRequest",
    "InMemoryUserDirectory",
    "InputKind",
    "LocalPartStrategy",
    "LookupKey",
    "LookupPlan",
    "MatchResult",
    "ObservedName",
    "ParsedName",
    "PlusTagStripStrategy",
    "ProxyAddressStrategy",
    "ReasonCode",
    "ServiceNowUserDirectory",
    "Status",
    "StrategyContext",
    "StrategyOutcome",
    "Tier",
    "UpnUserNameStrategy",
    "write_report_csv",
]
