"""A local, HTTPS-only ServiceNow instance and Defender tenant for tests, demos and notebooks.

Everything here needs the ``sandbox`` extra (``pip install 'cisync-lib[sandbox]'``)
except the configuration, fault and log types, which import without it. Every
name loads on first use, so importing the package (pytest does, for the plugin) is cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._config import (
        SERVICE_NAMES,
        DefenderOptions,
        GraphThrottle,
        RateLimitRule,
        SandboxConfig,
        ServiceNowOptions,
    )
    from ._faults import FaultInjector, FaultRule
    from ._gate import TransactionGate
    from ._log import INFO_KEY, RequestInfo, RequestLog, RequestRecord
    from ._sandbox import Sandbox
    from ._service import SandboxContext, SandboxService
    from ._tenant import (
        ExpectedOutcome,
        GeneratedTenant,
        IdentityTruth,
        generate_tenant,
    )
    from .defender import EntraAppCertificate
    from .servicenow import ServiceNowStore

__all__ = [
    "INFO_KEY",
    "SERVICE_NAMES",
    "DefenderOptions",
    "EntraAppCertificate",
    "ExpectedOutcome",
    "FaultInjector",
    "FaultRule",
    "GeneratedTenant",
    "GraphThrottle",
    "IdentityTruth",
    "RateLimitRule",
    "RequestInfo",
    "RequestLog",
    "RequestRecord",
    "Sandbox",
    "SandboxConfig",
    "SandboxContext",
    "SandboxService",
    "ServiceNowOptions",
    "ServiceNowStore",
    "TransactionGate",
    "generate_tenant",
]

# Every name loads on first use: pytest imports this package in every project that has
# cisync_lib installed (the ``pytest11`` plugin lives here), so importing it must cost
# nothing; and the names needing werkzeug / trustme must import without the extra.
_LAZY = {
    "SERVICE_NAMES": "._config",
    "DefenderOptions": "._config",
    "GraphThrottle": "._config",
    "RateLimitRule": "._config",
    "SandboxConfig": "._config",
    "ServiceNowOptions": "._config",
    "FaultInjector": "._faults",
    "FaultRule": "._faults",
    "TransactionGate": "._gate",
    "INFO_KEY": "._log",
    "RequestInfo": "._log",
    "RequestLog": "._log",
    "RequestRecord": "._log",
    "SandboxContext": "._service",
    "SandboxService": "._service",
    "ExpectedOutcome": "._tenant",
    "GeneratedTenant": "._tenant",
    "IdentityTruth": "._tenant",
    "generate_tenant": "._tenant",
    "Sandbox": "._sandbox",
    "EntraAppCertificate": ".defender",
    "ServiceNowStore": ".servicenow",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
