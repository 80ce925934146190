"""The sync package's public helpers the `cisync` command is built on (no network).

`DeploymentConfig.servicenow`/`.correlator`, `Preflight.diagnose` and `observed_names`
(with `PlanCounts.describe` and `SyncReport.from_plan`, tested beside the report, the
CLI imports nothing else of sync).
"""

from __future__ import annotations

import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

from cisync_lib import (
    AppUser,
    ConfigError,
    DiscoveredApp,
    DiscoveryStream,
    PreflightError,
    ServiceNowAuthError,
)
from cisync_lib.correlation import Correlator
from cisync_lib.correlation._chain import AliasMapStrategy
from cisync_lib.defender import DefenderData
from cisync_lib.defender._data import merge_apps
from cisync_lib.servicenow import ServiceNowConnection
from cisync_lib.sync import (
    Preflight,
    job_from_config,
    load_deployment,
    observed_names,
)

CONFIG = """\
[sync]
connection = "contoso"

[connections.contoso]
kind = "graph"
tenant_id = "00000000-0000-0000-0000-000000000000"
client_id = "app"

[destinations.test]
instance_url = "https://test.example.com"
environment = "test"
username = "cisync"
"""
SECRETS = {"CISYNC_TEST_PASSWORD": "pw", "CISYNC_CONTOSO_CLIENT_SECRET": "s"}
AT = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def config_file(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "cisync.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_servicenow_connection_of_a_destination(tmp_path, monkeypatch):
    monkeypatch.setenv("CISYNC_TEST_PASSWORD", "pw")
    config = load_deployment(config_file(tmp_path))
    conn = config.servicenow("test")
    assert isinstance(conn, ServiceNowConnection)
    assert conn.instance_url == "https://test.example.com"


def test_a_missing_ca_file_is_refused_before_the_secrets_are_needed(tmp_path, monkeypatch):
    monkeypatch.delenv("CISYNC_TEST_PASSWORD", raising=False)
    text = CONFIG.replace('username = "cisync"\n', 'username = "cisync"\nca_bundle = "no.pem"\n')
    config = load_deployment(config_file(tmp_path, text))
    with pytest.raises(ConfigError) as info:
        config.servicenow("test")
    assert info.value.key == "destinations.test.ca_bundle"
    assert info.value.file == str(tmp_path / "cisync.toml")
    assert "does not exist or is not readable" in info.value.problem


def test_a_missing_secret_names_its_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("CISYNC_TEST_PASSWORD", raising=False)
    config = load_deployment(config_file(tmp_path))
    with pytest.raises(ConfigError, match="CISYNC_TEST_PASSWORD"):
        config.servicenow("test")


def test_the_configured_correlator_has_the_chain_and_the_alias_map(tmp_path):
    (tmp_path / "aliases.csv").write_text(
        "source_name,action,target_field,target_value\nbob,ignore,,\n", encoding="utf-8"
    )
    text = CONFIG + '\n[correlation]\nchain = ["alias_map", "email"]\nalias_map = "aliases.csv"\n'
    correlator = load_deployment(config_file(tmp_path, text)).correlator()
    assert isinstance(correlator, Correlator)
    assert [step.name for step in correlator.chain] == ["alias_map", "email"]
    assert isinstance(correlator.chain[0], AliasMapStrategy)
    assert correlator.chain[0].alias_map is not None


def test_a_run_failure_is_restated_with_the_key_and_the_secret(tmp_path, monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    config = load_deployment(config_file(tmp_path))
    job = job_from_config(config, "test")
    preflight = Preflight(
        config=config, source=config.connection(), destination=config.destination("test")
    )
    refused = ServiceNowAuthError(instance="https://test.example.com", status=401)
    better = preflight.diagnose(refused, job)
    assert isinstance(better, PreflightError)
    assert (better.service, better.host, better.cause) == (
        "ServiceNow",
        "test.example.com:443",
        "401",
    )
    assert "CISYNC_TEST_PASSWORD" in better.fix
    assert preflight.diagnose(ValueError("not a service's failure"), job) is None


def test_observed_names_carry_their_app_and_stream():
    streams = (
        DiscoveryStream(id="s1", display_name="Global View"),
        DiscoveryStream(
            id="s2", display_name="MDE", log_data_provider="microsoftDefenderForEndpoint"
        ),
    )
    apps = merge_apps(
        [
            DiscoveredApp(id="1", name="Box", risk_score=9, user_count=2, stream_id="s1"),
            DiscoveredApp(id="2", name="Drop", risk_score=3, user_count=1, stream_id="s2"),
        ]
    )
    users = {
        "1": (
            AppUser(identifier="a@contoso.com", app_id="1", stream_id="s1"),
            AppUser(identifier="tok1", app_id="1", stream_id="s1", anonymized=True),
        ),
        "2": (AppUser(identifier="CONTOSO\\c", app_id="2", stream_id="s2"),),
    }
    data = DefenderData(streams=streams, apps=apps, users=users, read_at=AT)
    names, owners = observed_names(data, ["2", "1"])
    assert owners == ["2", "1", "1"]
    assert [(n.raw, n.anonymized) for n in names] == [
        ("CONTOSO\\c", False),
        ("a@contoso.com", False),
        ("tok1", True),
    ]
    assert dict(names[0].context) == {"app": "Drop", "stream": "s2", "endpoint": "true"}
    assert dict(names[1].context) == {"app": "Box", "stream": "s1"}
