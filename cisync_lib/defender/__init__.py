"""Reading Defender for Cloud Apps: Graph (default), the legacy REST API, and snapshots.

Example::

    from cisync_lib.defender import ClientSecret, GraphConnection, GraphSource, save_snapshot

    conn = GraphConnection(tenant_id, client_id, credential=ClientSecret(secret=...))
    with GraphSource(conn) as source:
        data = source.read(period=30, max_risk_score=8)
    save_snapshot(data, "defender-snapshot.json")
"""

from ._auth import reset_token_providers
from ._config import (
    CLOUDS,
    PUBLIC_CLOUD,
    US_GOV_CLOUD,
    US_GOV_DOD_CLOUD,
    Cloud,
    GraphConnection,
    HttpPolicy,
    LegacyConnection,
    RateLimit,
)
from ._credentials import ClientAssertion, ClientCertificate, ClientSecret, LegacyToken, Secret
from ._data import AppDevice, DefenderData, MergedApp, ProgressCallback, ReadProgress
from ._graph import GraphSource
from ._legacy import LegacySource
from ._limiter import reset_shared_limiters
from ._reader import normalize_period
from ._snapshot import SNAPSHOT_VERSION, SnapshotSource, load_snapshot, save_snapshot
from ._source import DefenderSource

__all__ = [
    "CLOUDS",
    "PUBLIC_CLOUD",
    "SNAPSHOT_VERSION",
    "US_GOV_CLOUD",
    "US_GOV_DOD_CLOUD",
    "AppDevice",
    "ClientAssertion",
    "ClientCertificate",
    "ClientSecret",
    "Cloud",
    "DefenderData",
    "DefenderSource",
    "GraphConnection",
    "GraphSource",
    "HttpPolicy",
    "LegacyConnection",
    "LegacySource",
    "LegacyToken",
    "MergedApp",
    "ProgressCallback",
    "RateLimit",
    "ReadProgress",
    "Secret",
    "SnapshotSource",
    "load_snapshot",
    "normalize_period",
    "reset_shared_limiters",
    "reset_token_providers",
    "save_snapshot",
]
