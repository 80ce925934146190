"""Approval before writing, and Ctrl-C in each phase, through the installed ``cisync``.

The prompt tests run ``cisync`` on a pseudo-terminal; the interrupt tests send
SIGINT to the process while the sandbox holds a request of the phase concerned
(a latency fault), then compare what ``cisync`` says was written with the
sandbox's store, read directly.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time

import pytest
import tomlkit

from cisync_lib.sandbox import FaultRule
from cisync_lib.sync._sandbox_config import write_sandbox_config

from .conftest import (
    Cli,
    Result,
    cisync_executable,
    cli_for,
    run_on_terminal,
    stored_apps,
    stored_links,
)
from .test_json_schema import _validate

CONSENT = ("--i-consent", "--by", "tests")


def _last_report(folder, env="test"):
    path = folder / "state" / f"sandbox--{env}" / "reports" / "last.json"
    return json.loads(path.read_text(encoding="utf-8"))


# --- approval ------------------------------------------------------------------------------


def test_apply_on_a_terminal_shows_the_totals_and_writes_after_yes(tmp_path, fresh_sandbox):
    cli = cli_for(fresh_sandbox, tmp_path)
    planned = cli.run(*cli.with_config("plan", "--json")).json()["counts"]["create_app"]
    result = run_on_terminal(cli, *cli.with_config("apply"), answer="yes")
    assert result.code == 0, result.stdout
    assert "Enter a value:" in result.stdout
    assert f"{planned} apps created" in result.stdout
    assert len(stored_apps(fresh_sandbox.store)) == planned > 0


def test_apply_on_a_terminal_declined_writes_nothing(tmp_path, fresh_sandbox):
    cli = cli_for(fresh_sandbox, tmp_path)
    result = run_on_terminal(cli, *cli.with_config("sync", "--apply"), answer="no")
    assert result.code == 3, result.stdout
    assert "not approved" in result.stdout
    assert "Traceback" not in result.stdout
    assert stored_apps(fresh_sandbox.store) == set()
    assert fresh_sandbox.request_log.writes(service="servicenow") == 0
    assert _last_report(tmp_path)["outcome"] == "refused"


def test_apply_without_a_terminal_and_without_yes_refuses_with_exit_2(tmp_path, fresh_sandbox):
    cli = cli_for(fresh_sandbox, tmp_path)
    result = cli.run(*cli.with_config("apply"))
    assert result.code == 2
    assert "add --yes" in result.stderr
    assert "cisync apply --env test --yes" in result.stderr.replace(f"--config {cli.config} ", "")
    assert stored_apps(fresh_sandbox.store) == set()
    assert fresh_sandbox.request_log.round_trips(service="graph") == 0  # refused before reading
    as_json = cli.run(*cli.with_config("sync", "--apply", "--json"))
    assert as_json.code == 2
    assert as_json.json()["error"]["type"] == "ApprovalRequiredError"
    assert stored_apps(fresh_sandbox.store) == set()


def test_prod_asks_for_the_environment_name_to_be_typed(tmp_path, fresh_sandbox):
    cli = Cli(tmp_path, config=write_sandbox_config(tmp_path, fresh_sandbox, prod=fresh_sandbox))
    declined = run_on_terminal(cli, *cli.with_config("apply", env_name="prod"), answer="yes")
    assert declined.code == 3, declined.stdout
    assert 'Type the environment name "prod"' in declined.stdout
    assert stored_apps(fresh_sandbox.store) == set()
    approved = run_on_terminal(cli, *cli.with_config("apply", env_name="prod"), answer="prod")
    assert approved.code == 0, approved.stdout
    assert stored_apps(fresh_sandbox.store)


def test_an_empty_plan_is_not_asked_about(tmp_path, fresh_sandbox):
    cli = cli_for(fresh_sandbox, tmp_path)
    assert cli.run(*cli.with_config("apply", "--yes", "-q")).code == 0
    again = run_on_terminal(cli, *cli.with_config("apply"), answer=None)
    assert again.code == 0, again.stdout
    assert "Enter a value" not in again.stdout
    assert "applied, 0 write(s)" in again.stdout


# --- Ctrl-C -------------------------------------------------------------------------------


def _start(cli: Cli, *args: str) -> subprocess.Popen[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CISYNC_")}
    return subprocess.Popen(
        [cisync_executable(), *args],
        cwd=cli.folder,
        env=environ,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _interrupt_when(proc, sandbox, seen, *, timeout: float = 120) -> Result:
    """Send SIGINT once ``seen(request_log_entries)`` holds, then collect the result."""
    deadline = time.monotonic() + timeout  # a safety net, not a timed check
    while not seen(sandbox.request_log.entries):
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"cisync finished before the interrupt ({proc.returncode}): {err}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the phase to interrupt never started")
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    out, err = proc.communicate(timeout=120)
    # a figure for people (run with -s), not a timed assertion
    print(f"\nSIGINT to exit: {time.monotonic() - sent:.2f} s")
    return Result(proc.returncode, out, err)


def _requests(service, method, path):
    def seen(entries):
        return any(e.service == service and e.method == method and path in e.path for e in entries)

    return seen


def test_ctrl_c_while_reading_defender_exits_130_and_writes_nothing(tmp_path, fresh_sandbox):
    cli = cli_for(fresh_sandbox, tmp_path)
    fresh_sandbox.faults.add(FaultRule(service="graph", kind="latency", delay=1.0, after=1))
    proc = _start(cli, *cli.with_config("apply", "--yes"))
    result = _interrupt_when(proc, fresh_sandbox, _requests("graph", "GET", "/"))
    assert result.code == 130, result.stderr
    assert "interrupted: nothing written" in result.stderr
    assert "Traceback" not in result.stderr
    assert stored_apps(fresh_sandbox.store) == set()
    assert fresh_sandbox.request_log.writes(service="servicenow") == 0
    assert _last_report(tmp_path)["outcome"] == "interrupted"


def test_ctrl_c_while_planning_exits_130_and_writes_nothing(tmp_path, fresh_sandbox):
    cli = cli_for(fresh_sandbox, tmp_path)
    fresh_sandbox.faults.add(
        FaultRule(service="servicenow", method="GET", path="cmdb_ci_business_app",
                  kind="latency", delay=2.0)
    )  # fmt: skip
    proc = _start(cli, *cli.with_config("plan", "--json"))
    result = _interrupt_when(proc, fresh_sandbox, _requests("servicenow", "GET", "sys_choice"))
    assert result.code == 130, result.stderr
    assert "interrupted: nothing written" in result.stderr
    document = json.loads(result.stdout)
    assert document["error"]["exit_code"] == 130
    _validate(document, "error")  # a real interrupt, against docs/cli-json.schema.json
    assert fresh_sandbox.request_log.writes(service="servicenow") == 0
    assert _last_report(tmp_path)["outcome"] == "interrupted"


@pytest.mark.parametrize("sessions", [1, 4])
def test_ctrl_c_while_applying_states_the_writes_the_instance_holds(
    tmp_path, fresh_sandbox, sessions
):
    cli = cli_for(fresh_sandbox, tmp_path)
    # small batches, so that the run is stopped between batches well before the end
    document = tomlkit.parse(cli.config.read_text(encoding="utf-8"))
    document["destinations"]["test"]["batch_size"] = 20
    document["destinations"]["test"]["sessions"] = sessions
    cli.config.write_text(tomlkit.dumps(document), encoding="utf-8")
    assert (
        cli.run(*cli.with_config("settings", "set", "allow_user_sync", "true", *CONSENT)).code == 0
    )
    planned = cli.run(*cli.with_config("plan", "--json")).json()
    total = sum(v for k, v in planned["counts"].items()
                if not k.startswith(("unchanged", "pending")))  # fmt: skip
    assert total > 200, "the tenant must need many batches of 20 writes"
    apps_before, links_before = (
        len(stored_apps(fresh_sandbox.store)),
        stored_links(fresh_sandbox.store),
    )
    fresh_sandbox.faults.add(
        FaultRule(service="servicenow", method="POST", path="batch", kind="latency", delay=1.0)
    )
    proc = _start(cli, *cli.with_config("apply", "--yes"))
    result = _interrupt_when(proc, fresh_sandbox, _requests("servicenow", "POST", "batch"))
    assert result.code == 130, result.stderr
    written = (len(stored_apps(fresh_sandbox.store)) - apps_before) + (
        stored_links(fresh_sandbox.store) - links_before
    )
    assert 0 < written < total  # stopped part-way, after whole batches
    match = re.search(
        r"interrupted: (\d+) of (\d+) changes written; run `(.+)` again", result.stderr
    )
    assert match, result.stderr
    assert (int(match[1]), int(match[2])) == (written, total)
    assert match[3].startswith("cisync apply")
    report = _last_report(tmp_path)
    assert report["outcome"] == "interrupted"
    assert sum(report["written"].values()) == written
    # running apply again finishes the job
    fresh_sandbox.faults.clear()
    again = cli.run(*cli.with_config("apply", "--yes", "--json"))
    assert again.code == 0, again.stderr
    assert sum(again.json()["written"].values()) == total - written
