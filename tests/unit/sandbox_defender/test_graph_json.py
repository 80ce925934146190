"""The sandbox writes Graph's JSON with its own field mapping, checked here against the names
Graph's reference documents (not against the library's converter)."""

import ast
import pathlib
from datetime import datetime, timedelta, timezone

from cisync_lib import AppInfo, DiscoveredApp
from cisync_lib.sandbox.defender import _graph_json as gj

SANDBOX = pathlib.Path(gj.__file__).parents[1]


def test_app_info_uses_graphs_names():
    info = AppInfo(
        vendor="Acme",
        hosting_company="Microsoft Azure",
        founded=1999,
        holding="private",
        data_center="Ireland",
        logon_urls="https://login.acme.example",
        domain_registration=datetime(2001, 2, 3, 4, 5, 6, tzinfo=timezone.utc),
        latest_breach=None,
        tls_encryption_protocol="tls1_2",
        flags={"is_soc2_compliant": True, "is_hipaa_compliant": False, "is_dmca": None},
    )
    body = gj.app_info_json("123", info)
    assert body["@odata.type"] == "#microsoft.graph.security.discoveredCloudAppInfo"
    assert body["id"] == "123"
    assert body["vendor"] == "Acme"
    assert body["hostingCompany"] == "Microsoft Azure"
    assert body["founded"] == 1999
    assert body["holding"] == "private"
    assert body["dataCenter"] == "Ireland"
    assert body["logonUrls"] == "https://login.acme.example"
    assert body["domainRegistrationDateTime"] == "2001-02-03T04:05:06Z"
    assert body["latestBreachDateTime"] is None
    assert body["tlsEncryptionProtocol"] == "tls1_2"
    assert body["isSoc2Compliant"] == "true"
    assert body["isHipaaCompliant"] == "false"
    assert body["isDmca"] == "unknown"


def test_timestamps_are_utc_with_z():
    plus_two = timezone(timedelta(hours=2))
    assert gj.iso_utc(datetime(2026, 1, 2, 12, 0, tzinfo=plus_two)) == "2026-01-02T10:00:00Z"
    assert gj.iso_utc(datetime(2026, 1, 2, 12, 0)) == "2026-01-02T12:00:00Z"


def test_endpoint_apps_carry_device_count():
    app = DiscoveredApp(
        id="7", name="Box", risk_score=8, device_count=3, upload_bytes=1, download_bytes=2
    )
    body = gj.app_json(app)
    assert body["@odata.type"] == "#microsoft.graph.security.endpointDiscoveredCloudAppDetail"
    assert (body["displayName"], body["deviceCount"]) == ("Box", 3)
    assert body["uploadNetworkTrafficInBytes"] == 1
    assert body["downloadNetworkTrafficInBytes"] == 2


def test_the_sandbox_imports_only_the_librarys_public_names():
    """An independent oracle: no converter, wire helpers or other private library module."""
    private = []
    for path in sorted(SANDBOX.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                top, *rest = name.split(".")
                ours = top == "cisync_lib" and rest[:1] != ["sandbox"]
                if ours and any(part.startswith("_") for part in rest):
                    private.append(f"{path.relative_to(SANDBOX)}: {name}")
    assert private == []
