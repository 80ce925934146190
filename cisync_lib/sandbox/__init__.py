"""A local, HTTPS-only ServiceNow instance and Defender tenant for tests, demos and notebooks.

Everything here needs the ``sandbox`` extra (``pip install 'cisync-lib[sandbox]'``)
except the configuration, fault and log types, which import without it; the
names needing werkzeug or trustme load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._config import (
    SERVICE_NAMES,
    TENANT_SIZE_NAMES,
    DefenderOptions,
    GraphThrottle,
    RateLimit,
    SandboxConfig,
    ServiceNowOptions,
)
from ._faults import FAULT_KINDS, FaultInjector, FaultRule
from ._gate import GateStats, TransactionGate
from ._log import INFO_KEY, RequestInfo, RequestLog, RequestRecord
from ._services import SERVICE_BUILDERS, SandboxContext, SandboxService, ServiceBuilder
from ._tenant import (
    PERIOD_DAYS,
    TENANT_SIZES,
    ExpectedOutcome,
    GeneratedTenant,
    IdentifierForm,
    IdentityTruth,
    generate_tenant,
)

if TYPE_CHECKING:
    from ._sandbox import Sandbox
    from ._tls import TlsMaterial
    from .defender import ClientCertificate
    from .servicenow import ServiceNowService, ServiceNowStore

__all__ = [
    "FAULT_KINDS",
    "INFO_KEY",
    "PERIOD_DAYS",
    "SERVICE_BUILDERS",
    "SERVICE_NAMES",
    "TENANT_SIZES",
    "TENANT_SIZE_NAMES",
    "ClientCertificate",
    "DefenderOptions",
    "ExpectedOutcome",
    "FaultInjector",
    "FaultRule",
    "GateStats",
    "GeneratedTenant",
    "GraphThrottle",
    "IdentifierForm",
    "IdentityTruth",
    "RateLimit",
    "RequestInfo",
    "RequestLog",
    "RequestRecord",
    "Sandbox",
    "SandboxConfig",
    "SandboxContext",
    "SandboxService",
    "ServiceBuilder",
    "ServiceNowOptions",
    "ServiceNowService",
    "ServiceNowStore",
    "TlsMaterial",
    "TransactionGate",
    "generate_tenant",
]

# these need werkzeug / trustme: load them on first use so the rest imports without the extra
_LAZY = {
    "Sandbox": "._sandbox",
    "TlsMaterial": "._tls",
    "ClientCertificate": ".defender",
    "ServiceNowService": ".servicenow",
    "ServiceNowStore": ".servicenow",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
