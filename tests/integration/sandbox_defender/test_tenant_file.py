"""Bring your own Defender data: a snapshot file served as the sandbox's tenant (``--tenant``).

The oracle is the read of the generated tenant the snapshot was saved from:
the file tenant must give the same Graph read (and the same legacy app list),
through the real endpoints with their paging.
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
import requests

from cisync_lib import CisyncError, ConfigError
from cisync_lib.defender import (
    ClientSecret,
    GraphConnection,
    GraphSource,
    HttpPolicy,
    LegacyConnection,
    LegacySource,
    LegacyToken,
    reset_token_providers,
    save_snapshot,
)
from cisync_lib.defender._limiter import reset_shared_limiters
from cisync_lib.sandbox import DefenderOptions, Sandbox, SandboxConfig

SERVICES = ("entra", "graph", "mdca")
CISYNC = str(Path(sys.executable).with_name("cisync"))


def _start(**config):
    # small pages, so paging is exercised on both sides
    options = DefenderOptions(graph_page_size=7, mdca_page_limit=5)
    return Sandbox(SandboxConfig(services=SERVICES, defender=options, **config))


def _graph(sb):
    return GraphSource(
        GraphConnection(
            sb.tenant_id,
            sb.client_id,
            credential=ClientSecret(secret=sb.client_secret),
            authority_host=sb.authority.rsplit("/", 1)[0],
            graph_url=sb.graph_url,
            graph_scope=sb.graph_scope,
            verify=str(sb.ca_file),
            http=HttpPolicy(rate_limit=None),
        )
    )


def _legacy(sb):
    connection = LegacyConnection(
        sb.mdca_url, credential=LegacyToken(key=sb.mdca_token), verify=str(sb.ca_file)
    )
    return LegacySource(connection)


@pytest.fixture(autouse=True)
def _fresh_process_state():
    reset_token_providers()
    reset_shared_limiters()
    yield
    reset_token_providers()
    reset_shared_limiters()


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A tiny generated tenant's Graph read (30 days, catalog info), saved; and its legacy read."""
    path = tmp_path_factory.mktemp("tenant") / "contoso.json"
    with _start(size="tiny", seed=3) as sb:
        with _graph(sb) as source:
            data = source.read(period=30, include_app_info=True)
        with _legacy(sb) as source:
            legacy = source.read(period=30, include_users=False)
    save_snapshot(data, path)
    return path, data, legacy


def test_file_tenant_gives_the_same_graph_read(saved):
    path, want, _ = saved
    assert want.apps  # the round trip must carry something
    assert want.users
    with _start(tenant=path) as sb, _graph(sb) as source:
        got = source.read(period=30, include_app_info=True)
    assert attrs.evolve(got, read_at=want.read_at) == want


def test_file_tenant_gives_the_same_legacy_app_list(saved):
    path, _, want = saved
    with _start(tenant=path) as sb, _legacy(sb) as source:
        got = source.read(period=30, include_users=False)
    assert [m.app for m in got.apps] == [m.app for m in want.apps]
    assert got.streams == want.streams


def test_other_periods_are_refused_not_invented(saved):
    path, data, _ = saved
    stream = data.streams[0].id
    with _start(tenant=path) as sb:
        assert sb.tenant.periods == ("P30D",)
        token = sb.issue_access_token("graph")
        url = (
            f"{sb.graph_url}/beta/security/dataDiscovery/cloudAppDiscovery/uploadedStreams/"
            f"{stream}/aggregatedAppsDetails(period=duration'P90D')"
        )
        with requests.Session() as session:
            session.trust_env = False
            response = session.get(
                url, headers={"Authorization": f"Bearer {token}"}, verify=str(sb.ca_file)
            )
    assert response.status_code == 400
    assert "P30D only" in response.json()["error"]["message"]


def test_tenant_file_and_size_are_exclusive(saved):
    with pytest.raises(ConfigError, match="not both"):
        SandboxConfig(tenant=saved[0], size="tiny")


def test_a_bad_tenant_file_is_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{}", "utf-8")
    with pytest.raises(CisyncError, match=r"bad\.json"):
        _start(tenant=bad).start()


def test_cli_serves_a_tenant_file(saved):
    """`cisync sandbox serve --tenant FILE --json`: Graph lists the file's streams."""
    path, data, _ = saved
    env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    process = subprocess.Popen(
        [CISYNC, "sandbox", "serve", "--json", "--tenant", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        info = json.loads(process.stdout.readline())
        with requests.Session() as session:
            session.trust_env = False
            session.verify = info["ca_file"]
            token = session.post(
                f"{info['authority']}/oauth2/v2.0/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": info["client_id"],
                    "client_secret": info["client_secret"],
                    "scope": info["graph_scope"],
                },
            ).json()["access_token"]
            response = session.get(
                f"{info['graph_url']}/beta/security/dataDiscovery/cloudAppDiscovery/uploadedStreams",
                headers={"Authorization": f"Bearer {token}"},
            )
        assert [s["id"] for s in response.json()["value"]] == [s.id for s in data.streams]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        process.stdout.close()
        process.stderr.close()


def test_what_a_snapshot_lacks_is_refused_not_served_empty(tmp_path):
    """A snapshot read without users or catalog info: those Graph calls are a 400."""
    path = tmp_path / "lean.json"
    with _start(size="tiny", seed=3) as sb, _graph(sb) as source:
        lean = source.read(period=30, include_users=False)
    save_snapshot(lean, path)
    assert not lean.users_read
    stream, app = lean.apps[0].observations[0].stream_id, lean.apps[0].id
    with _start(tenant=path) as sb:
        with _graph(sb) as source:  # what the snapshot holds reads back the same
            again = source.read(period=30, include_users=False)
        assert attrs.evolve(again, read_at=lean.read_at) == lean
        token = sb.issue_access_token("graph")
        base = (
            f"{sb.graph_url}/beta/security/dataDiscovery/cloudAppDiscovery/uploadedStreams/"
            f"{stream}/aggregatedAppsDetails(period=duration'P30D')/{app}"
        )
        with requests.Session() as session:
            session.trust_env = False
            session.verify = str(sb.ca_file)
            session.headers["Authorization"] = f"Bearer {token}"
            users = session.get(f"{base}/users")
            info = session.get(f"{base}/appInfo")
    assert (users.status_code, info.status_code) == (400, 400)
    assert "recorded without users" in users.json()["error"]["message"]
    assert "recorded without catalog info" in info.json()["error"]["message"]


def test_cli_names_a_bad_tenant_file_as_a_usage_error(tmp_path):
    missing = tmp_path / "nope.json"
    result = subprocess.run(
        [CISYNC, "sandbox", "serve", "--tenant", str(missing)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--tenant" in result.stderr
    assert str(missing) in result.stderr
