"""cisync_lib: Defender for Cloud Apps discovered apps and their users into the ServiceNow CMDB.

The top level holds the names people use first: the sync entry points
(:func:`load_deployment`, :func:`job_from_config`, :class:`SyncJob`,
:class:`SyncReport`), the :class:`Correlator`, the Defender models, the
connection settings and every error. Each topic's full public API lives in its
sub-package: :mod:`cisync_lib.sync`, :mod:`cisync_lib.correlation`,
:mod:`cisync_lib.defender`, :mod:`cisync_lib.cmdb`,
:mod:`cisync_lib.servicenow`, :mod:`cisync_lib.settings`; errors in
:mod:`cisync_lib.errors`, extension Protocols in :mod:`cisync_lib.typing`, and
the local test instance in :mod:`cisync_lib.sandbox` (the ``sandbox`` extra).

Example::

    import cisync_lib

    config = cisync_lib.load_deployment("cisync.toml")
    report = cisync_lib.job_from_config(config, "test").plan()
    print(report.summary())
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from ._converter import (
        configure_converter,
        make_converter,
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
    from ._payload import (
        structure_payload,
    )
    from ._records import (
        BusinessApp,
        SnUser,
        UserLink,
    )
    from .correlation import (
        Correlator,
    )
    from .defender import (
        DefenderData,
    )
    from .errors import (
        AliasMapError,
        ApplyError,
        ApprovalDeclinedError,
        ApprovalRequiredError,
        CisyncError,
        CmdbSetupError,
        ConfigError,
        ConsentMissingError,
        ConsentRequiredError,
        CorrelationError,
        DefenderAuthError,
        DefenderError,
        DefenderHttpError,
        DefenderPayloadError,
        DocumentError,
        GuardRefusedError,
        JobLockedError,
        PlanDestinationError,
        PlanError,
        PlanFileError,
        PreflightError,
        RelationshipNotAvailableError,
        ReportNotSavedError,
        SandboxError,
        SandboxQueryError,
        ServiceNowAuthError,
        ServiceNowError,
        ServiceNowRequestError,
        SnapshotError,
        StalePlanError,
        UnknownStrategyError,
        UnsafeQueryError,
    )
    from .settings import (
        ConnectionSettings,
        Consent,
        EffectiveSettings,
        Environment,
        SettingsFile,
        load_settings,
    )
    from .sync import (
        DeploymentConfig,
        SyncJob,
        SyncReport,
        job_from_config,
        load_deployment,
    )

__all__ = [
    # entry points
    "SyncJob",
    "SyncReport",
    "DeploymentConfig",
    "job_from_config",
    "load_deployment",
    "Correlator",
    "DefenderData",
    # models
    "AppCategory",
    "AppInfo",
    "AppUser",
    "DiscoveredApp",
    "DiscoveryStream",
    "Holding",
    "LogDataProvider",
    "SanctionState",
    "BusinessApp",
    "SnUser",
    "UserLink",
    # converter
    "make_converter",
    "configure_converter",
    "structure_payload",
    # settings
    "ConnectionSettings",
    "Consent",
    "EffectiveSettings",
    "Environment",
    "SettingsFile",
    "load_settings",
    # errors (also in cisync_lib.errors)
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
    "DocumentError",
    "GuardRefusedError",
    "JobLockedError",
    "PlanDestinationError",
    "PlanError",
    "PlanFileError",
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
    "__version__",
]

# Each name loads its module on first use. pytest imports this package for the
# sandbox's plugin in every run where cisync_lib is installed, and a script that
# only reads a report should not pay for msal, pysnc and the CMDB planner.
_HOMES: dict[str, str] = {
    **dict.fromkeys(
        (
            "SyncJob",
            "SyncReport",
            "DeploymentConfig",
            "job_from_config",
            "load_deployment",
        ),
        "cisync_lib.sync",
    ),
    **dict.fromkeys(
        ("Correlator",),
        "cisync_lib.correlation",
    ),
    **dict.fromkeys(
        ("DefenderData",),
        "cisync_lib.defender",
    ),
    **dict.fromkeys(
        (
            "ConnectionSettings",
            "Consent",
            "EffectiveSettings",
            "Environment",
            "SettingsFile",
            "load_settings",
        ),
        "cisync_lib.settings",
    ),
    **dict.fromkeys(
        (
            "make_converter",
            "configure_converter",
        ),
        "cisync_lib._converter",
    ),
    **dict.fromkeys(
        ("structure_payload",),
        "cisync_lib._payload",
    ),
    **dict.fromkeys(
        (
            "AppCategory",
            "AppInfo",
            "AppUser",
            "DiscoveredApp",
            "DiscoveryStream",
            "Holding",
            "LogDataProvider",
            "SanctionState",
        ),
        "cisync_lib._models",
    ),
    **dict.fromkeys(
        (
            "BusinessApp",
            "SnUser",
            "UserLink",
        ),
        "cisync_lib._records",
    ),
    **dict.fromkeys(
        (
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
            "DocumentError",
            "GuardRefusedError",
            "JobLockedError",
            "PlanDestinationError",
            "PlanError",
            "PlanFileError",
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
        ),
        "cisync_lib.errors",
    ),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later look-ups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
