"""Starting the sandbox: context manager, state folder, configuration, CLI and pytest plugin."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from cisync_lib import ConfigError, SandboxError
from cisync_lib.sandbox import Sandbox, SandboxConfig, ServiceNowOptions

from .conftest import make_client, make_session

CISYNC = str(Path(sys.executable).with_name("cisync"))  # the installed console script


def test_context_manager_serves_and_cleans_up():
    """Inside the block the instance answers; afterwards the port and CA file are gone."""
    with Sandbox() as sb:
        url, ca = sb.servicenow_url, sb.ca_file
        assert ca.read_text().startswith("-----BEGIN CERTIFICATE-----")
        gr = make_client(sb).GlideRecord("cmdb_rel_type")
        gr.query()
        assert len(gr) == 7
        info = sb.connection_info()
        for key in ("servicenow_url", "servicenow_username", "servicenow_password", "ca_file"):
            assert info[key]
    assert not ca.exists()
    with requests.Session() as s:
        s.trust_env = False
        with pytest.raises(requests.exceptions.ConnectionError):
            s.get(url, verify=False, timeout=2)
    with pytest.raises(SandboxError, match="not running"):
        _ = sb.store


def test_state_folder_keeps_data_and_credentials(tmp_path):
    """A second run on the same folder has the same data and the same passwords."""
    config = SandboxConfig(state_dir=tmp_path / "state")
    with Sandbox(config) as sb:
        app = sb.store.insert("cmdb_ci_business_app", {"name": "Persistent"})
        password = sb.servicenow_password
    with Sandbox(config) as sb:
        assert sb.servicenow_password == password
        with make_session(sb) as s:
            row = s.get(f"{sb.servicenow_url}/api/now/table/cmdb_ci_business_app/{app}").json()
        assert row["result"]["name"] == "Persistent"
        assert sb.store.count("cmdb_rel_type") == 7


def test_given_credentials_and_fixed_port(cisync_sandbox_factory):
    """Configured credentials are used; a fixed port is honoured."""
    with Sandbox() as probe:  # find a port that is free right now
        port = int(probe.servicenow_url.rsplit(":", 1)[1])
    options = ServiceNowOptions(username="me", password="pw-1", oauth_client_secret="s3")
    sb = cisync_sandbox_factory(SandboxConfig(ports={"servicenow": port}, servicenow=options))
    assert sb.servicenow_url == f"https://127.0.0.1:{port}"
    assert (sb.servicenow_username, sb.servicenow_password, sb.oauth_client_secret) == (
        "me",
        "pw-1",
        "s3",
    )
    with make_session(sb) as s:
        assert s.get(sb.servicenow_url + "/api/now/table/cmdb_rel_type").status_code == 200


@pytest.mark.parametrize(
    ("make", "key"),
    [
        (lambda: SandboxConfig(services=("servicenow", "nope")), "services"),
        (lambda: SandboxConfig(ports={"servicenow": 70000}), "ports.servicenow"),
        (lambda: ServiceNowOptions(unknown_tables="maybe"), "servicenow.unknown_tables"),
        (lambda: ServiceNowOptions(identification_rule="number"), "servicenow.identification_rule"),
        (
            lambda: ServiceNowOptions(readonly_username="cisync.integration"),
            "servicenow.readonly_username",
        ),
    ],
)
def test_bad_configuration_is_a_config_error(make, key):
    """Configuration mistakes raise ConfigError naming the key."""
    with pytest.raises(ConfigError) as info:
        make()
    assert info.value.key == key


def test_extra_columns(cisync_sandbox_factory):
    """Custom u_ columns can be added at start and are written through the Table API."""
    options = ServiceNowOptions(extra_columns={"cmdb_ci_business_app": ("u_url",)})
    sb = cisync_sandbox_factory(SandboxConfig(servicenow=options))
    with make_session(sb) as s:
        created = s.post(sb.servicenow_url + "/api/now/table/cmdb_ci_business_app",
                         json={"name": "Box", "u_url": "https://box.com"})  # fmt: skip
    assert created.json()["result"]["u_url"] == "https://box.com"


def test_the_plugin_imports_without_the_sandbox_extra():
    """pytest loads the plugin everywhere: it must import when werkzeug and trustme are missing."""
    code = (
        "import sys; sys.modules['werkzeug'] = None; sys.modules['trustme'] = None; "
        "import cisync_lib.sandbox._pytest_plugin as p; import cisync_lib.sandbox as s; "
        "print(p.cisync_sandbox.__name__, s.SandboxConfig().services == s.SERVICE_NAMES)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["cisync_sandbox", "True"]


def test_cli_serve_json_until_interrupted(tmp_path):
    """`cisync sandbox serve --json` prints one JSON line, serves, and stops on SIGINT."""
    env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    process = subprocess.Popen(
        [CISYNC, "sandbox", "serve", "--json", "--state", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        info = json.loads(process.stdout.readline())
        with requests.Session() as s:
            s.trust_env = False
            s.verify = info["ca_file"]
            s.auth = (info["servicenow_username"], info["servicenow_password"])
            response = s.get(info["servicenow_url"] + "/api/now/table/cmdb_rel_type")
        assert response.headers["X-Total-Count"] == "7"
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        process.stdout.close()
        process.stderr.close()
    assert (tmp_path / "servicenow.sqlite3").exists()
