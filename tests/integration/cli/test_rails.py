"""Safety rails of the ``cisync`` command (issue 11, items 6 and 7), through the real sandbox.

Oracles: the sandbox's store and request log (records actually written), the files on
disk, and the process's exit code and stderr; never the library's own report.

Tests run as root, where ``chmod`` makes nothing read-only; unusable folders are made
in ways that fail for root too: a path under a regular file, and a file-size limit
(``RLIMIT_FSIZE``: writes past it fail with EFBIG, as on a full disk).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from pathlib import Path

import filelock
import tomlkit

from .conftest import PREFIX, Cli, cisync_executable, cli_for, stored_apps


def _edit(config, change):
    document = tomlkit.parse(config.read_text(encoding="utf-8"))
    change(document)
    config.write_text(tomlkit.dumps(document), encoding="utf-8")


def _state_dir(cli, value):
    _edit(cli.config, lambda d: d["sync"].__setitem__("state_dir", value))


def _assert_one_clean_line(result):
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_an_unusable_state_folder_is_refused_before_anything_is_written(tmp_path, fresh_sandbox):
    cli = cli_for(fresh_sandbox, tmp_path)
    (tmp_path / "blocker").write_text("a file, not a folder\n", encoding="utf-8")
    _state_dir(cli, "blocker/state")
    mark = fresh_sandbox.request_log.mark()
    result = cli.run(*cli.with_config("apply", "--yes"))
    assert result.code == 2, result.stderr
    line = _assert_one_clean_line(result)
    assert "blocker" in line
    assert "nothing was read or written" in line
    assert fresh_sandbox.request_log.writes(since=mark) == 0
    assert stored_apps(fresh_sandbox.store) == set()


def test_an_unusable_reports_folder_is_refused_before_anything_is_written(tmp_path, fresh_sandbox):
    cli = cli_for(fresh_sandbox, tmp_path)
    state = tmp_path / "state"
    job_folder = state / "sandbox--test"
    job_folder.mkdir(parents=True)
    (job_folder / "reports").write_text("a file where the reports folder goes\n")
    _state_dir(cli, str(state))
    mark = fresh_sandbox.request_log.mark()
    result = cli.run(*cli.with_config("sync", "--apply", "--yes"))
    assert result.code == 2, result.stderr
    line = _assert_one_clean_line(result)
    assert "reports" in line
    assert fresh_sandbox.request_log.writes(since=mark) == 0
    # the --report file's folder is checked as well
    (job_folder / "reports").unlink()
    (tmp_path / "blocker-file").write_text("x")
    result = cli.run(*cli.with_config("apply", "--yes", "--report", "blocker-file/r.json"))
    assert result.code == 2
    assert "blocker-file" in _assert_one_clean_line(result)
    assert fresh_sandbox.request_log.writes(since=mark) == 0


def test_a_full_disk_after_the_writes_is_a_true_one_line_statement(tmp_path, fresh_sandbox):
    """The report cannot be saved after the sync wrote: say how much was written."""
    cli = cli_for(fresh_sandbox, tmp_path)
    _state_dir(cli, "state")
    # the run-state file is small; the report, with its unmatched users, is not
    limit = 3000
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CISYNC_")}
    mark = fresh_sandbox.request_log.mark()
    done = subprocess.run(
        [cisync_executable(), *cli.with_config("apply", "--yes")],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)),
    )
    written = fresh_sandbox.request_log.writes(service="servicenow", since=mark)
    assert written > 0
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert f"{written} record(s) written" in lines[0]
    assert "File too large" in lines[0]
    # the run state committed (a small file), so the next run writes nothing new
    run_state = json.loads(
        (tmp_path / "state" / "sandbox--test" / "cmdb-run-state.json").read_text()
    )
    assert run_state["completed_runs"] == 1
    mark = fresh_sandbox.request_log.mark()
    again = cli.run(*cli.with_config("apply", "--yes"))
    assert again.code == 0, again.stderr
    assert fresh_sandbox.request_log.writes(since=mark) == 0


def _lock_is_held(state: Path) -> bool:
    """Whether another process holds a write lock under ``state`` (probed, never kept)."""
    for path in state.glob("**/apply.lock"):
        probe = filelock.FileLock(path, timeout=0)
        try:
            probe.acquire()
        except filelock.Timeout:
            return True
        probe.release()
    return False


def test_two_concurrent_applies_one_refuses_and_the_run_state_keeps_every_update(
    tmp_path, fresh_sandbox
):
    from cisync_lib.sandbox import FaultRule

    cli = cli_for(fresh_sandbox, tmp_path)
    _state_dir(cli, "state")
    _edit(cli.config, lambda d: d["sync"].__setitem__("lock_wait", 0.5))
    # the writes take seconds, so the first run holds the lock well past the second's wait
    fresh_sandbox.faults.add(
        FaultRule(service="servicenow", method="POST", path="/batch", kind="latency", delay=4.0)
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CISYNC_")}

    def start():
        return subprocess.Popen(
            [cisync_executable(), *cli.with_config("apply", "--yes")],
            cwd=tmp_path,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    # the second run starts once the first holds the lock: two runs started together
    # could otherwise run one after the other (the first done before the second's
    # start-up and preflight), which proves nothing about the lock
    first = start()
    deadline = time.monotonic() + 120
    while not _lock_is_held(tmp_path / "state"):
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline, "the first run never took the lock"
        time.sleep(0.02)
    procs = [first, start()]
    results = []
    for proc in procs:
        _out, err = proc.communicate(timeout=240)
        results.append((proc.returncode, err))
    fresh_sandbox.faults.clear()
    codes = sorted(code for code, _ in results)
    assert codes == [0, 3], results
    refused = next(err for code, err in results if code == 3)
    assert "Traceback" not in refused
    assert "another cisync run is writing" in refused
    assert "nothing was written" in refused
    # exactly one set of CIs, no duplicates
    rows = [
        r["correlation_id"]
        for r in fresh_sandbox.store.query("cmdb_ci_business_app")
        if r.get("correlation_id", "").startswith(PREFIX)
    ]
    assert rows
    assert len(rows) == len(set(rows))
    state = tmp_path / "state" / "sandbox--test" / "cmdb-run-state.json"
    assert json.loads(state.read_text())["completed_runs"] == 1
    again = cli.run(*cli.with_config("apply", "--yes"))
    assert again.code == 0, again.stderr
    assert json.loads(state.read_text())["completed_runs"] == 2


def test_a_hand_edited_consent_bypass_is_refused_until_consent_is_recorded(tmp_path, fresh_sandbox):
    cli = cli_for(fresh_sandbox, tmp_path)

    def tick(document):
        conn = document["connections"]["sandbox"]
        conn.setdefault("settings", tomlkit.table())
        conn["settings"].setdefault("test", tomlkit.table())
        conn["settings"]["test"]["allow_user_sync"] = {"override": True, "value": True}

    _edit(cli.config, tick)
    mark = fresh_sandbox.request_log.mark()
    for command in (("apply", "--yes"), ("plan",), ("sync", "--apply", "--yes")):
        refused = cli.run(*cli.with_config(*command))
        assert refused.code == 3, refused.stderr
        line = _assert_one_clean_line(refused)
        assert "allow_user_sync" in line
        assert "cisync settings set allow_user_sync true --env test --i-consent" in line
    # refused before any request: nothing read, nothing written
    assert fresh_sandbox.request_log.since(mark) == ()
    assert stored_apps(fresh_sandbox.store) == set()
    # consenting to the value already in the file records it; then the run goes ahead
    done = cli.run(
        *cli.with_config("settings", "set", "allow_user_sync", "true", "--i-consent",
                         "--by", "alice@contoso.com")
    )  # fmt: skip
    assert done.code == 0, done.stderr
    text = cli.config.read_text(encoding="utf-8")
    assert "allow_user_sync: override true -> override true" in text
    applied = cli.run(*cli.with_config("apply", "--yes"))
    assert applied.code == 0, applied.stderr
    assert fresh_sandbox.store.count("cmdb_rel_person") > 0  # user links were synced


def test_prod_without_tls_verification_is_refused_unless_loudly_allowed(tmp_path, fresh_sandbox):
    from cisync_lib.sync._sandbox_config import write_sandbox_config

    config = write_sandbox_config(tmp_path, fresh_sandbox, prod=fresh_sandbox)
    cli = Cli(folder=tmp_path, config=config)

    def unverified(document):
        prod = document["destinations"]["prod"]
        del prod["ca_bundle"]
        prod["verify"] = False

    _edit(config, unverified)
    mark = fresh_sandbox.request_log.mark()
    refused = cli.run(*cli.with_config("plan", env_name="prod"))
    assert refused.code == 2, refused.stderr
    line = _assert_one_clean_line(refused)
    assert "destinations.prod.verify" in line
    assert "ca_bundle" in line
    assert fresh_sandbox.request_log.since(mark) == ()
    _edit(config, lambda d: d["destinations"]["prod"].__setitem__(
        "unsafe_allow_unverified_tls_in_prod", True))  # fmt: skip
    allowed = cli.run(*cli.with_config("plan", "--json", env_name="prod"))
    assert allowed.code == 0, allowed.stderr
    warnings = allowed.json()["warnings"]
    assert any("TLS certificate verification is OFF for PROD" in w for w in warnings)


def test_an_untrusted_certificate_says_so_and_names_ca_bundle(tmp_path, fresh_sandbox):
    cli = cli_for(fresh_sandbox, tmp_path)
    # no ca_bundle: the system's trust store, which does not hold the sandbox's throwaway CA
    _edit(cli.config, lambda d: d["destinations"]["test"].__delitem__("ca_bundle"))
    result = cli.run(*cli.with_config("plan"))
    assert result.code == 1, result.stderr
    line = _assert_one_clean_line(result)
    assert "certificate verify failed" in line
    assert "ca_bundle" in line


def test_a_late_http_failure_is_one_true_line(tmp_path, fresh_sandbox):
    """The batch runs but its answer is lost, then the instance refuses the check."""
    from cisync_lib.sandbox import FaultRule

    cli = cli_for(fresh_sandbox, tmp_path)
    _state_dir(cli, "state")
    log = fresh_sandbox.request_log
    apps_path = "/api/now/table/cmdb_ci_business_app"
    # how many reads of the app table a run makes before it writes (same every run)
    mark = log.mark()
    planned = cli.run(*cli.with_config("plan"))
    assert planned.code == 0, planned.stderr
    reads = log.round_trips(service="servicenow", method="GET", path_prefix=apps_path, since=mark)
    fresh_sandbox.faults.add(
        FaultRule(service="servicenow", method="POST", path=r"/v1/batch", kind="drop", times=1)
    )
    fresh_sandbox.faults.add(
        FaultRule(
            service="servicenow", method="GET", path=apps_path, status=401, after=reads, times=1
        )
    )
    mark = log.mark()
    result = cli.run(*cli.with_config("apply", "--yes"))
    fresh_sandbox.faults.clear()
    written = log.writes(service="servicenow", since=mark)
    assert written > 0  # the batch ran on the instance
    assert result.code == 1, result.stderr
    line = _assert_one_clean_line(result)
    assert "apply stopped" in line
    # the statement read back from the instance is the oracle's count
    assert f"{written} of {written} changes written; nothing left to do" in line
    # and the next run finds nothing left to write
    mark = log.mark()
    again = cli.run(*cli.with_config("apply", "--yes"))
    assert again.code == 0, again.stderr
    assert log.writes(since=mark) == 0


def test_an_untrusted_certificate_on_the_token_request_names_ca_bundle(shared_sandbox):
    """OAuth token requests go through the same translation as table reads."""
    import pytest

    from cisync_lib import ServiceNowError
    from cisync_lib.servicenow import OAuthClientCredentials, ServiceNowConnection

    sb = shared_sandbox
    conn = ServiceNowConnection(
        sb.servicenow_url,
        auth=OAuthClientCredentials(sb.oauth_client_id, sb.oauth_client_secret),
        verify=True,  # the system's trust store: the sandbox's throwaway CA is not in it
    )
    with pytest.raises(ServiceNowError) as info:
        conn.count("sys_user")
    assert "certificate verify failed" in str(info.value)
    assert "ca_bundle" in str(info.value)
