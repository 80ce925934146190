"""``cisync check`` and the failures of ``plan``/``apply``: one line naming the place and the fix.

Every test runs the installed console script against the HTTPS sandbox;
the oracles are the sandbox's request log and store and messages written by
hand from the issue (service, host, the config key or secret to change).
"""

from __future__ import annotations

import contextlib
import socket
import threading

import certifi
import pytest

from cisync_lib.sandbox import SERVICE_NAMES, Sandbox, SandboxConfig

from .conftest import Cli, cli_for

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(SandboxConfig(size="tiny", seed=0, services=SERVICE_NAMES)) as running:
        yield running


def _edit(cli: Cli, old: str, new: str) -> None:
    text = cli.config.read_text(encoding="utf-8")
    assert old in text
    cli.config.write_text(text.replace(old, new), encoding="utf-8")


def _one_line_error(result) -> str:
    """The error as printed: exactly one line on stderr, never a traceback."""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _silent_listener():
    """A port that accepts TCP but never speaks TLS (a black hole behind a firewall)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted = []
    stop = threading.Event()

    def hold() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        server.close()


# --- cisync check -----------------------------------------------------------------------


def test_check_passes_on_a_sandbox_and_writes_nothing(tmp_path, sandbox):
    cli = cli_for(sandbox, tmp_path)
    mark = sandbox.request_log.mark()
    result = cli.run(*cli.with_config("check"))
    assert result.code == 0, result.stdout + result.stderr
    assert "All checks passed" in result.stdout
    for expected in (
        f"ServiceNow 127.0.0.1:{sandbox.servicenow_url.rsplit(':', 1)[1]} (DNS, TCP, TLS)",
        f"TLS trusted with CA {sandbox.ca_file}",
        "token issued with role CloudApp-Discovery.Read.All",
        "relationship type 'Used by' in cmdb_rel_user_type: found",
        "write cmdb_rel_person (delete, probed): allowed",
    ):
        assert expected in result.stdout
    inactive = sandbox.store.count("sys_user", "active=false")
    assert f"{sandbox.store.count('sys_user')} users readable, {inactive} of them inactive" in (
        result.stdout
    )
    assert sandbox.request_log.writes(since=mark) == 0
    as_json = cli.run(*cli.with_config("check", "--json"))
    assert as_json.code == 0
    document = as_json.json()
    assert document["ok"] is True
    assert all(item["ok"] is True for item in document["checks"])


def test_check_fails_for_a_read_only_user_with_the_refused_writes(tmp_path, sandbox):
    cli = cli_for(sandbox, tmp_path)
    _edit(cli, 'username = "cisync.integration"', f'username = "{sandbox.readonly_username}"')
    env = {"CISYNC_TEST_PASSWORD": sandbox.readonly_password}
    mark = sandbox.request_log.mark()
    result = cli.run(*cli.with_config("check"), env=env)
    assert result.code == 1
    failed = [line.strip() for line in result.stdout.splitlines() if "FAIL" in line]
    assert [line.split(":")[0] for line in failed] == [
        "FAIL  write cmdb_ci_business_app (update, probed)",
        "FAIL  write cmdb_rel_person (update, probed)",
        "FAIL  write cmdb_rel_person (delete, probed)",
    ]
    assert all("HTTP 403" in line for line in failed)
    assert all("Fix: grant" in line for line in failed)
    assert "Not ready" in result.stdout
    assert sandbox.request_log.writes(since=mark) == 0
    # apply fails before reading anything, in one line, instead of once per refused write
    apply = cli.run(*cli.with_config("apply", "--yes"), env=env)
    assert apply.code == 1
    line = _one_line_error(apply)
    assert "user cisync.readonly may not update cmdb_ci_business_app" in line
    assert "Fix:" in line
    assert sandbox.request_log.writes(since=mark) == 0


def test_check_fails_when_the_used_by_type_is_missing(tmp_path, fresh_sandbox):
    store = fresh_sandbox.store
    rows = store.query("cmdb_rel_user_type", "name=Used by")
    assert rows
    for row in rows:
        store.delete("cmdb_rel_user_type", row["sys_id"])
    cli = cli_for(fresh_sandbox, tmp_path)
    result = cli.run(*cli.with_config("check"))
    assert result.code == 1
    (line,) = [line.strip() for line in result.stdout.splitlines() if "FAIL" in line]
    assert line.startswith(
        "FAIL  relationship type 'Used by' in cmdb_rel_user_type: "
        "no cmdb_rel_user_type record named 'Used by'"
    )
    assert "Fix: as an administrator, create a cmdb_rel_user_type record" in line


# --- failures of a run: one line, the place and the fix ----------------------------------


def test_a_wrong_password_fails_after_one_401_before_any_defender_read(tmp_path, sandbox):
    cli = cli_for(sandbox, tmp_path)
    mark = sandbox.request_log.mark()
    result = cli.run(*cli.with_config("plan"), env={"CISYNC_TEST_PASSWORD": "wrong"})
    assert result.code == 1
    line = _one_line_error(result)
    assert line.startswith(
        f"cisync: PreflightError: ServiceNow 127.0.0.1:{sandbox.servicenow_url.rsplit(':', 1)[1]}"
        ": the credentials of user cisync.integration were refused (HTTP 401)"
    )
    assert "Fix: set the right secret in CISYNC_TEST_PASSWORD" in line
    seen = sandbox.request_log.since(mark)
    servicenow = [r for r in seen if r.service == "servicenow"]
    assert [r.status for r in servicenow] == [401]
    assert [r for r in seen if r.service in ("graph", "mdca")] == []


def test_a_wrong_client_secret_names_the_secret(tmp_path, sandbox):
    cli = cli_for(sandbox, tmp_path)
    mark = sandbox.request_log.mark()
    result = cli.run(*cli.with_config("plan"), env={"CISYNC_SANDBOX_CLIENT_SECRET": "wrong"})
    assert result.code == 1
    line = _one_line_error(result)
    assert "Entra ID" in line
    assert "invalid_client" in line
    assert "Fix: set the right secret in CISYNC_SANDBOX_CLIENT_SECRET" in line
    assert [r for r in sandbox.request_log.since(mark) if r.service == "graph"] == []


@pytest.mark.parametrize("mode", ["refused", "dns", "tls", "timeout"])
def test_network_failures_name_service_host_key_and_fix(tmp_path, sandbox, mode):
    cli = cli_for(sandbox, tmp_path)
    url = sandbox.servicenow_url
    with contextlib.ExitStack() as stack:
        if mode == "refused":
            port = _free_port()
            _edit(cli, f'instance_url = "{url}"', f'instance_url = "https://127.0.0.1:{port}"')
            expected = f"ServiceNow 127.0.0.1:{port}: the connection was refused"
            fix = "Fix: check destinations.test.instance_url"
        elif mode == "dns":
            _edit(cli, f'instance_url = "{url}"', 'instance_url = "https://cisync-test.invalid"')
            expected = "ServiceNow cisync-test.invalid:443: the host name does not resolve"
            fix = "Fix: check destinations.test.instance_url"
        elif mode == "tls":
            text = cli.config.read_text(encoding="utf-8")
            head, tail = text.split("[destinations.test]")
            tail = tail.replace(str(sandbox.ca_file), certifi.where())
            cli.config.write_text(head + "[destinations.test]" + tail, encoding="utf-8")
            expected = f"TLS certificate verify failed (unable to get local issuer certificate): not trusted with CA {certifi.where()}"
            fix = "Fix: set destinations.test.ca_bundle to the CA file"
        else:
            port = stack.enter_context(_silent_listener())
            _edit(cli, f'instance_url = "{url}"', f'instance_url = "https://127.0.0.1:{port}"')
            expected = f"ServiceNow 127.0.0.1:{port}: no answer in time"
            fix = "Fix: check destinations.test.instance_url"
        result = cli.run(*cli.with_config("plan"))
        check = cli.run(*cli.with_config("check"))
    assert result.code == 1
    line = _one_line_error(result)
    assert expected in line
    assert fix in line
    assert "cisync init --sandbox" in line  # a sandbox config says how to refresh it
    for bare in ("ConnectionError", "SSLError", "NewConnectionError"):
        assert bare not in line
    assert check.code == 1
    assert expected.split(": ")[-1] in check.stdout


def test_a_missing_ca_bundle_is_a_config_error_naming_the_key(tmp_path, sandbox):
    cli = cli_for(sandbox, tmp_path)
    _edit(cli, str(sandbox.ca_file), str(tmp_path / "gone" / "ca.pem"))
    for command in ("plan", "check"):
        result = cli.run(*cli.with_config(command))
        assert result.code == 2
        line = _one_line_error(result)
        assert line.startswith(f"cisync: ConfigError: {cli.config}: connections.sandbox.ca_bundle")
        assert "does not exist" in line
        assert "cisync init --sandbox" in line


def test_init_sandbox_takes_the_json_line_and_refreshes_keeping_settings(tmp_path, sandbox):
    import json

    from cisync_lib.sync import load_deployment

    cli = Cli(tmp_path)
    line = json.dumps(sandbox.connection_info())
    first = cli.run("init", "--sandbox", line)
    assert first.code == 0, first.stderr
    cli.config = tmp_path / "cisync.toml"
    changed = cli.run(
        "settings", "set", "--config", str(cli.config), "--env", "test", "allow_user_sync",
        "true", "--i-consent", "--by", "alice@contoso.com",
    )  # fmt: skip
    assert changed.code == 0, changed.stderr
    _edit(cli, sandbox.servicenow_url, "https://127.0.0.1:1")  # as if the sandbox moved
    (tmp_path / "info.json").write_text(line + "\n", encoding="utf-8")
    again = cli.run("init", "--sandbox", "info.json")
    assert again.code == 0, again.stderr
    config = load_deployment(cli.config)
    assert config.destinations["test"].instance_url == sandbox.servicenow_url
    assert config.settings().effective("test").allow_user_sync is True
    assert [r.by for r in config.settings_file.consent_log("sandbox")] == ["alice@contoso.com"]
    missing = cli.run("init", "--sandbox", "https://example.com/info")
    assert missing.code == 2
    assert "https://example.com/info" in _one_line_error(missing)  # not "https:/example.com"


def test_a_wrong_pfx_passphrase_fails_when_the_config_is_loaded(tmp_path, sandbox):
    cli = cli_for(sandbox, tmp_path)
    cert = sandbox.client_certificate
    _edit(
        cli,
        'credential = "secret"',
        f'credential = "certificate"\ncertificate_path = "{cert.pfx_path}"',
    )
    mark = sandbox.request_log.mark()
    wrong = {"CISYNC_SANDBOX_CERTIFICATE_PASSPHRASE": "not-the-passphrase"}
    for command in ("plan", "check"):
        result = cli.run(*cli.with_config(command), env=wrong)
        assert result.code == 2
        line = _one_line_error(result)
        assert "connections.sandbox.certificate_passphrase" in line
        assert "the passphrase does not open it" in line
        assert "CISYNC_SANDBOX_CERTIFICATE_PASSPHRASE" in line
    assert sandbox.request_log.since(mark) == ()  # nothing was sent anywhere
    right = {"CISYNC_SANDBOX_CERTIFICATE_PASSPHRASE": cert.pfx_passphrase}
    check = cli.run(*cli.with_config("check"), env=right)
    assert check.code == 0, check.stdout
    assert "token issued with role CloudApp-Discovery.Read.All" in check.stdout


def test_correlate_with_a_wrong_password_fails_once_instead_of_per_chunk(tmp_path, sandbox):
    cli = cli_for(sandbox, tmp_path)
    names = [u.email for u in sandbox.tenant.sys_users[:250] if u.email]
    (tmp_path / "ids.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
    mark = sandbox.request_log.mark()
    result = cli.run(
        *cli.with_config("correlate", "--input", "ids.txt", "--out", "u.csv"),
        env={"CISYNC_TEST_PASSWORD": "wrong"},
    )
    assert result.code == 1
    line = _one_line_error(result)
    assert "the credentials of user cisync.integration were refused (HTTP 401)" in line
    assert [r.status for r in sandbox.request_log.since(mark)] == [401]
    assert not (tmp_path / "u.csv").exists()


def test_output_piped_into_head_ends_quietly(tmp_path, sandbox):
    import os
    import subprocess

    from .conftest import cisync_executable

    cli = cli_for(sandbox, tmp_path)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CISYNC_")}
    proc = subprocess.Popen(
        [cisync_executable(), *cli.with_config("check")],
        cwd=tmp_path,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.close()  # the reader goes away before anything is printed, as `| head -0`
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert err == ""


def test_oauth_client_credentials_a_wrong_secret_costs_one_token_request(tmp_path, sandbox):
    cli = cli_for(sandbox, tmp_path)
    _edit(
        cli,
        'auth = "basic"\nusername = "cisync.integration"',
        f'auth = "oauth_client_credentials"\nclient_id = "{sandbox.oauth_client_id}"',
    )
    mark = sandbox.request_log.mark()
    result = cli.run(*cli.with_config("plan"), env={"CISYNC_TEST_CLIENT_SECRET": "wrong"})
    assert result.code == 1
    line = _one_line_error(result)
    assert f"the credentials of OAuth client {sandbox.oauth_client_id} were refused (HTTP 401)" in (
        line
    )
    assert "Fix: set the right secret in CISYNC_TEST_CLIENT_SECRET" in line
    servicenow = [r for r in sandbox.request_log.since(mark) if r.service == "servicenow"]
    assert [(r.path, r.status) for r in servicenow] == [("/oauth_token.do", 401)]
    right = {"CISYNC_TEST_CLIENT_SECRET": sandbox.oauth_client_secret}
    check = cli.run(*cli.with_config("check"), env=right)
    assert check.code == 0, check.stdout


def test_a_wrong_legacy_api_token_fails_before_reading(tmp_path, sandbox):
    cli = cli_for(sandbox, tmp_path)
    text = cli.config.read_text(encoding="utf-8")
    head, rest = text.split("[connections.sandbox]\n")
    table, tail = rest.split("\n\n", 1)
    kept = [
        line for line in table.splitlines()
        if line.split(" = ")[0] in ("tenant_id", "client_id", "ca_bundle")
    ]  # fmt: skip
    legacy = ['kind = "legacy"', f'url = "{sandbox.mdca_url}"', 'credential = "token"', *kept]
    cli.config.write_text(
        head + "[connections.sandbox]\n" + "\n".join(legacy) + "\n\n" + tail, encoding="utf-8"
    )
    mark = sandbox.request_log.mark()
    result = cli.run(*cli.with_config("plan"), env={"CISYNC_SANDBOX_API_TOKEN": "wrong"})
    assert result.code == 1
    line = _one_line_error(result)
    assert "Defender legacy API" in line
    assert "were refused (HTTP 401)" in line
    assert "Fix: set the right secret in CISYNC_SANDBOX_API_TOKEN" in line
    assert [r.status for r in sandbox.request_log.since(mark) if r.service == "mdca"] == [401]
    check = cli.run(*cli.with_config("check"), env={"CISYNC_SANDBOX_API_TOKEN": sandbox.mdca_token})
    assert check.code == 0, check.stdout
    assert "Defender legacy API discovery streams" in check.stdout


def test_check_on_the_ire_path_names_a_missing_identification_rule(
    tmp_path, cisync_sandbox_factory
):
    from cisync_lib.sandbox import ServiceNowOptions

    bare = cisync_sandbox_factory(
        SandboxConfig(
            size="tiny",
            seed=0,
            services=SERVICE_NAMES,
            servicenow=ServiceNowOptions(identification_rule=None),
        )
    )
    cli = cli_for(bare, tmp_path)
    _edit(cli, 'state_dir = "state"', 'state_dir = "state"\nwrite_path = "ire"')
    result = cli.run(*cli.with_config("check"))
    assert result.code == 1
    (line,) = [line.strip() for line in result.stdout.splitlines() if "FAIL" in line]
    assert line.startswith("FAIL  IRE data source and identification rule: IRE preflight failed")
    assert "no active identification rule for cmdb_ci_business_app" in line
    assert "Fix: see the 'IRE setup' page" in line
