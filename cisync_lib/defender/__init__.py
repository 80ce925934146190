"""Reading Defender for Cloud Apps: Graph (default), the legacy REST API, and snapshots.

Example::

    from cisync_lib.defender import ClientSecret, GraphConnection, GraphSource, save_snapshot

    conn = GraphConnection(tenant_id, client_id, credential=ClientSecret(secret=...))
    with GraphSource(conn) as source:
        data = source.read(period=30, max_risk_score=8)
    save_snapshot(data, "defender-snapshot.json")

A sovereign cloud is one of :data:`CLOUDS` (``cloud=CLOUDS["us_gov"]``).
"""

from ._auth import reset_token_providers
from ._config import CLOUDS, Cloud, GraphConnection, HttpPolicy, LegacyConnection, RateLimit
from ._credentials import ClientAssertion, ClientCertificate, ClientSecret, LegacyToken
from ._data import AppDevice, DefenderData, MergedApp, ReadProgress
from ._graph import GraphSource
from ._legacy import LegacySource
from ._snapshot import SnapshotSource, load_snapshot, save_snapshot
from ._source import DefenderSource

__all__ = [
    "CLOUDS",
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
    "RateLimit",
    "ReadProgress",
    "SnapshotSource",
    "load_snapshot",
    "reset_token_providers",
    "save_snapshot",
]
