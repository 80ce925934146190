"""cisync_lib: Defender for Cloud Apps discovered apps and their users into the ServiceNow CMDB.

Everything public is importable from here; sub-packages group the larger
topics (:mod:`cisync_lib.settings`, :mod:`cisync_lib.correlation`,
:mod:`cisync_lib.defender`, :mod:`cisync_lib.cmdb`, :mod:`cisync_lib.sandbox`).
"""

from ._converter import configure_converter, make_converter
from ._errors import (
    AliasMapError,
    CisyncError,
    ConfigError,
    ConsentMissingError,
    ConsentRequiredError,
    CorrelationError,
    JobLockedError,
    RelationshipNotAvailableError,
    ReportNotSavedError,
    SandboxError,
    SandboxQueryError,
    UnknownStrategyError,
)
from ._errors_cli import ApprovalDeclinedError, ApprovalRequiredError
from ._errors_cmdb import (
    ApplyError,
    CmdbSetupError,
    GuardRefusedError,
    PlanError,
    StalePlanError,
    UnsafeQueryError,
)
from ._errors_remote import (
    DefenderAuthError,
    DefenderError,
    DefenderHttpError,
    DefenderPayloadError,
    PreflightError,
    ServiceNowAuthError,
    ServiceNowError,
    ServiceNowRequestError,
    SnapshotError,
)
from ._models import (
    AppCategory,
    AppInfo,
    AppUser,
    DiscoveredApp,
    DiscoveryStream,
    Holding,
    LogDataProvider,
    SanctionState,
)
from ._payload import structure_payload
from ._records import BusinessApp, SnUser, UserLink
from ._version import __version__
from .settings import (
    ConnectionSettings,
    Consent,
    EffectiveSettings,
    Environment,
    RelationshipKind,
    SettingsFile,
    available_relationships,
    check_relationships,
    load_settings,
)

__all__ = [
    # models
    "AppCategory",
    "AppInfo",
    "AppUser",
    "BusinessApp",
    "DiscoveredApp",
    "DiscoveryStream",
    "Holding",
    "LogDataProvider",
    "SanctionState",
    "SnUser",
    "UserLink",
    # converter
    "configure_converter",
    "make_converter",
    "structure_payload",
    # errors
    "AliasMapError",
    "ApplyError",
    "ApprovalDeclinedError",
    "ApprovalRequiredError",
    "CisyncError",
    "CmdbSetupError",
    "ConfigError",
    "ConsentMissingError",
    "ConsentRequiredError",
    "CorrelationError",
    "DefenderAuthError",
    "DefenderError",
    "DefenderHttpError",
    "DefenderPayloadError",
    "GuardRefusedError",
    "JobLockedError",
    "PlanError",
    "PreflightError",
    "RelationshipNotAvailableError",
    "ReportNotSavedError",
    "SandboxError",
    "SandboxQueryError",
    "ServiceNowAuthError",
    "ServiceNowError",
    "ServiceNowRequestError",
    "SnapshotError",
    "StalePlanError",
    "UnknownStrategyError",
    "UnsafeQueryError",
    # settings
    "ConnectionSettings",
    "Consent",
    "EffectiveSettings",
    "Environment",
    "RelationshipKind",
    "SettingsFile",
    "available_relationships",
    "check_relationships",
    "load_settings",
    "__version__",
]
