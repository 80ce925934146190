"""Synthetic Defender tenants with ServiceNow users and ground truth."""

from ._file import ServedTenant, SnapshotTenant
from ._tenant import DEFAULT_AS_OF, TENANT_SIZES, GeneratedTenant, generate_tenant
from ._truth import ExpectedOutcome, IdentifierForm, IdentityTruth
from ._usage import PERIOD_DAYS

__all__ = [
    "DEFAULT_AS_OF",
    "PERIOD_DAYS",
    "TENANT_SIZES",
    "ExpectedOutcome",
    "GeneratedTenant",
    "IdentifierForm",
    "IdentityTruth",
    "ServedTenant",
    "SnapshotTenant",
    "generate_tenant",
]
