"""Every ``cisync`` command through the installed console script, against the HTTPS sandbox."""

from __future__ import annotations

import csv
import json
import subprocess

import pytest
import tomlkit
import tomllib

from cisync_lib.defender import save_snapshot
from cisync_lib.sync import load_deployment, write_sandbox_config

from .conftest import Cli, cisync_executable, cli_for, stored_apps

# --- usage ------------------------------------------------------------------------------


def test_help_lists_every_command_and_the_exit_codes(tmp_path):
    result = Cli(tmp_path).run("--help")
    assert result.code == 0
    for command in ("demo", "init", "plan", "apply", "sync", "settings", "correlate", "report",
                    "sandbox"):  # fmt: skip
        assert command in result.stdout
    assert "3  refused" in result.stdout
    assert "4  partial" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("plan", "--env", "staging"),
        ("frobnicate",),
        ("settings",),
        ("sandbox", "serve", "--size", "huge"),
    ],
)
def test_usage_errors_exit_2(tmp_path, args):
    assert Cli(tmp_path).run(*args).code == 2


# --- init and config errors -----------------------------------------------------------


def test_init_writes_a_config_that_loads_and_never_overwrites(tmp_path):
    cli = Cli(tmp_path)
    first = cli.run("init", "--json")
    assert first.code == 0
    paths = first.json()
    config = load_deployment(paths["config"])
    assert set(config.destinations) == {"test", "prod"}
    assert (tmp_path / "cisync-secrets.toml").stat().st_mode & 0o077 == 0
    assert cli.run("init").code == 2
    assert cli.run("init", "--force").code == 0


def test_a_config_error_names_file_line_key_and_allowed_values(tmp_path, shared_sandbox):
    cli = cli_for(shared_sandbox, tmp_path)
    text = cli.config.read_text(encoding="utf-8")
    cli.config.write_text(text.replace('environment = "test"', 'environment = "qa"'), "utf-8")
    result = cli.run(*cli.with_config("plan", env_name="test"))
    assert result.code == 2
    assert "destinations.test.environment" in result.stderr
    assert '"test" | "prod"' in result.stderr
    assert f"{cli.config}:" in result.stderr  # file:line
    as_json = cli.run(*cli.with_config("plan", "--json"))
    assert as_json.code == 2
    error = as_json.json()["error"]
    assert error["type"] == "ConfigError"
    assert error["exit_code"] == 2


def test_a_secret_in_the_config_is_a_config_error(tmp_path, shared_sandbox):
    cli = cli_for(shared_sandbox, tmp_path)
    text = cli.config.read_text(encoding="utf-8")
    cli.config.write_text(
        text.replace("[destinations.test]", '[destinations.test]\npassword = "x"')
    )
    result = cli.run(*cli.with_config("plan"))
    assert result.code == 2
    assert "destinations.test.password" in result.stderr
    assert "CISYNC_TEST_PASSWORD" in result.stderr


def test_a_missing_secret_names_the_variable_and_the_env_var_works(tmp_path, shared_sandbox):
    cli = cli_for(shared_sandbox, tmp_path)
    secrets = tomllib.loads((tmp_path / "cisync-secrets.toml").read_text(encoding="utf-8"))
    (tmp_path / "cisync-secrets.toml").write_text("", encoding="utf-8")
    missing = cli.run(*cli.with_config("plan"))
    assert missing.code == 2
    assert "CISYNC_TEST_PASSWORD" in missing.stderr
    env = {
        "CISYNC_TEST_PASSWORD": secrets["destinations"]["test"]["password"],
        "CISYNC_SANDBOX_CLIENT_SECRET": secrets["connections"]["sandbox"]["client_secret"],
    }
    assert cli.run(*cli.with_config("plan", "-q"), env=env).code == 0


def test_a_service_error_exits_1(tmp_path, shared_sandbox):
    cli = cli_for(shared_sandbox, tmp_path)
    secrets = tmp_path / "cisync-secrets.toml"
    text = secrets.read_text(encoding="utf-8")
    password = tomllib.loads(text)["destinations"]["test"]["password"]
    secrets.write_text(text.replace(password, "wrong-password"), encoding="utf-8")
    result = cli.run(*cli.with_config("plan", "--json"))
    assert result.code == 1
    # the quick check before the run restates the 401 with the secret to change
    assert result.json()["error"]["type"] == "PreflightError"
    assert "CISYNC_TEST_PASSWORD" in result.json()["error"]["message"]
    assert "wrong-password" not in result.stdout + result.stderr
    # the failed run leaves its own report: last.json never shows an older run after an alert
    last = tmp_path / "state" / "sandbox--test" / "reports" / "last.json"
    report = json.loads(last.read_text(encoding="utf-8"))
    assert (report["mode"], report["outcome"]) == ("plan", "failed")
    assert report["error"].startswith("PreflightError")
    assert "wrong-password" not in last.read_text(encoding="utf-8")
    shown = cli.run("report", str(last))
    assert shown.code == 0
    assert "FAILED" in shown.stdout


# --- plan, apply, sync ----------------------------------------------------------------


def test_plan_json_reports_and_writes_nothing(tmp_path, shared_sandbox):
    cli = cli_for(shared_sandbox, tmp_path)
    mark = shared_sandbox.request_log.mark()
    result = cli.run(*cli.with_config("plan", "--json"))
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["mode"] == "plan"
    assert report["outcome"] == "planned"
    assert report["counts"]["create_app"] == len(_continuous_app_ids(shared_sandbox.tenant))
    assert all(e.method == "GET" or "oauth" in e.path or "token" in e.path
               for e in shared_sandbox.request_log.since(mark) if e.service == "servicenow")  # fmt: skip
    assert shared_sandbox.request_log.writes(service="servicenow") == 0
    assert (tmp_path / "state" / "sandbox--test" / "reports" / "last.json").exists()


def _continuous_app_ids(tenant):
    return {a.id for s in tenant.streams if not s.is_snapshot for a in tenant.apps("P30D", s.id)}


def test_sync_is_a_dry_run_until_apply_and_a_second_apply_writes_nothing(tmp_path, fresh_sandbox):
    cli = cli_for(fresh_sandbox, tmp_path)
    dry = cli.run(*cli.with_config("sync", "--json"))
    assert dry.code == 0, dry.stderr
    assert dry.json()["mode"] == "dry_run"
    assert stored_apps(fresh_sandbox.store) == set()
    applied = cli.run(*cli.with_config("sync", "--apply", "--yes", "--json"))
    assert applied.code == 0, applied.stderr
    written = applied.json()["written"]
    wanted = {f"mdca:app:{i}" for i in _continuous_app_ids(fresh_sandbox.tenant)}
    assert stored_apps(fresh_sandbox.store) == wanted
    assert written["create_app"] == len(wanted)
    again = cli.run(*cli.with_config("apply", "--yes", "--json"))
    assert again.code == 0
    assert sum(again.json()["written"].values()) == 0
    text = cli.run(*cli.with_config("apply", "--yes"))
    assert "applied, 0 write(s)" in text.stdout


def test_a_reviewed_plan_applies_once_then_is_refused_as_stale(tmp_path, fresh_sandbox):
    cli = cli_for(fresh_sandbox, tmp_path)
    plan_file = tmp_path / "plan.json"
    assert cli.run(*cli.with_config("plan", "--out", str(plan_file), "-q")).code == 0
    assert stored_apps(fresh_sandbox.store) == set()
    first = cli.run(*cli.with_config("apply", "--yes", "--plan", str(plan_file), "--json"))
    assert first.code == 0, first.stderr
    assert first.json()["written"]["create_app"] == len(stored_apps(fresh_sandbox.store)) > 0
    stale = cli.run(*cli.with_config("apply", "--yes", "--plan", str(plan_file), "--json"))
    assert stale.code == 3
    assert stale.json()["error"]["type"] == "StalePlanError"
    assert "on_stale" not in stale.stderr  # the CLI's advice, not a Python argument
    assert "make a new plan and review it: cisync plan" in stale.stderr
    last = tmp_path / "state" / "sandbox--test" / "reports" / "last.json"
    assert json.loads(last.read_text(encoding="utf-8"))["outcome"] == "refused"
    other = cli.run(*cli.with_config("apply", "--yes", "--plan", str(tmp_path / "cisync.toml")))
    assert other.code == 2  # not a plan file


def test_a_plan_for_test_is_refused_for_prod_with_exit_3_and_an_old_plan_file_with_2(
    tmp_path, fresh_sandbox
):
    """The same instance tagged TEST and PROD: a TEST plan never writes as PROD."""
    cli = Cli(tmp_path, config=write_sandbox_config(tmp_path, fresh_sandbox, prod=fresh_sandbox))
    plan_file = tmp_path / "plan.json"
    assert cli.run(*cli.with_config("plan", "--out", str(plan_file), "-q")).code == 0
    mark = fresh_sandbox.request_log.mark()
    args = ("apply", "--yes", "--plan", str(plan_file), "--json")
    refused = cli.run(*cli.with_config(*args, env_name="prod"))
    assert refused.code == 3, refused.stderr
    assert refused.json()["error"]["type"] == "PlanDestinationError"
    assert "nothing was written" in refused.stderr
    assert fresh_sandbox.request_log.writes(since=mark) == 0
    assert stored_apps(fresh_sandbox.store) == set()
    # a refused run leaves its report, like any refusal: an alert on exit 3 links to it
    last = tmp_path / "state" / "sandbox--prod" / "reports" / "last.json"
    report = json.loads(last.read_text(encoding="utf-8"))
    assert (report["mode"], report["outcome"]) == ("apply", "refused")
    assert report["error"].startswith("PlanDestinationError")
    # a plan file saved by an older cisync-lib records no destination: plan again
    document = json.loads(plan_file.read_text(encoding="utf-8"))
    document["cmdb"]["version"] = 1
    plan_file.write_text(json.dumps(document), encoding="utf-8")
    old = cli.run(*cli.with_config(*args))
    assert old.code == 2, old.stderr
    assert old.json()["error"]["type"] == "PlanFileError"
    assert "plan again" in old.stderr
    assert stored_apps(fresh_sandbox.store) == set()
    # its review says so, rather than offering a command that will refuse it
    shown = cli.run("show", str(plan_file))
    assert shown.code == 0, shown.stderr
    assert "plan again" in shown.stdout
    assert "Apply exactly this plan" not in shown.stdout


def test_the_guard_refuses_with_exit_3_and_force_goes_ahead(tmp_path, fresh_sandbox):
    cli = cli_for(fresh_sandbox, tmp_path)
    consent = ("--i-consent", "--by", "tests")
    assert cli.run(*cli.with_config("settings", "set", "grace_runs", "0", *consent)).code == 0
    assert cli.run(*cli.with_config("apply", "--yes", "-q")).code == 0
    before = {r["sys_id"]: r["operational_status"]
              for r in fresh_sandbox.store.query("cmdb_ci_business_app")}  # fmt: skip
    scores = sorted({a.risk_score for s in fresh_sandbox.tenant.streams if not s.is_snapshot
                     for a in fresh_sandbox.tenant.apps("P30D", s.id)})  # fmt: skip
    lower = scores[len(scores) // 2]  # drops roughly half the apps: far over the 10% guard
    assert (
        cli.run(*cli.with_config("settings", "set", "max_risk_score", str(lower), *consent)).code
        == 0
    )
    refused = cli.run(*cli.with_config("apply", "--yes", "--json"))
    assert refused.code == 3
    assert refused.json()["outcome"] == "refused"
    text = cli.run(*cli.with_config("apply", "--yes"))
    assert text.code == 3
    assert "force=True" not in text.stdout + text.stderr
    assert "--force" in text.stdout
    assert "cisync plan" in text.stdout
    after = {r["sys_id"]: r["operational_status"]
             for r in fresh_sandbox.store.query("cmdb_ci_business_app")}  # fmt: skip
    assert after == before
    forced = cli.run(*cli.with_config("apply", "--yes", "--force", "--json"))
    assert forced.code == 0
    assert forced.json()["written"]["retire_app"] > 0


# --- settings -------------------------------------------------------------------------


def test_settings_change_needs_consent_which_is_recorded(tmp_path, shared_sandbox):
    cli = cli_for(shared_sandbox, tmp_path)
    before = cli.config.read_text(encoding="utf-8")
    refused = cli.run(*cli.with_config("settings", "set", "allow_user_sync", "true"))
    assert refused.code == 3
    assert "--i-consent" in refused.stderr
    assert cli.config.read_text(encoding="utf-8") == before
    done = cli.run(
        *cli.with_config("settings", "set", "allow_user_sync", "true", "--i-consent",
                         "--by", "alice@contoso.com", "--json")
    )  # fmt: skip
    assert done.code == 0, done.stderr
    log = load_deployment(cli.config).settings_file.consent_log("sandbox")
    assert log[-1].by == "alice@contoso.com"
    assert log[-1].changes == ("allow_user_sync: default false -> override true",)
    bad = cli.run(*cli.with_config("settings", "set", "max_risk_score", "11", "--i-consent"))
    assert bad.code == 2
    assert "0..10" in bad.stderr


def test_settings_show_diff_and_promote(tmp_path, shared_sandbox):
    cli = cli_for(shared_sandbox, tmp_path)
    consent = ("--i-consent", "--by", "bob")
    cli.run(*cli.with_config("settings", "set", "max_risk_score", "7", *consent))
    shown = cli.run("settings", "show", "--config", str(cli.config), "--json").json()
    assert shown["settings"]["max_risk_score"]["test"] == {"value": 7, "source": "override"}
    assert shown["settings"]["max_risk_score"]["prod"] == {"value": 10, "source": "default"}
    diff = cli.run("settings", "diff", "--config", str(cli.config), "--json").json()
    assert [row["name"] for row in diff] == ["max_risk_score"]
    refused = cli.run("settings", "promote", "--config", str(cli.config))
    assert refused.code == 3
    promoted = cli.run("settings", "promote", "--config", str(cli.config), *consent)
    assert promoted.code == 0
    assert "prod: max_risk_score: default 10 -> override 7" in promoted.stdout
    assert cli.run("settings", "diff", "--config", str(cli.config), "--json").json() == []


def test_settings_and_init_work_on_a_config_naming_a_plugin_not_installed_here(
    tmp_path, shared_sandbox
):
    # the plugin is installed where the scheduled sync runs (or will be, later): managing
    # settings and refreshing a sandbox config do not correlate, so they must not need it
    cli = cli_for(shared_sandbox, tmp_path)
    document = tomlkit.parse(cli.config.read_text(encoding="utf-8"))
    document["correlation"]["chain"] = ["alias_map", "email_upn", "employee_number"]
    cli.config.write_text(tomlkit.dumps(document), encoding="utf-8")
    shown = cli.run("settings", "show", "--config", str(cli.config), "--json")
    assert shown.code == 0, shown.stderr
    info = json.dumps(shared_sandbox.connection_info())
    refreshed = cli.run("init", "--sandbox", info, "--config", str(cli.config))
    assert refreshed.code == 0, refreshed.stderr
    # what correlates refuses the name before anything connects, naming the key
    plan = cli.run(*cli.with_config("plan"))
    assert plan.code == 2
    assert "correlation.chain[2]: unknown correlation strategy 'employee_number'" in plan.stderr


# --- correlate and the alias map --------------------------------------------------------


def test_correlate_writes_the_unmatched_report_and_the_alias_map_fixes_rows(
    tmp_path, shared_sandbox
):
    cli = cli_for(shared_sandbox, tmp_path)
    truth = shared_sandbox.tenant.truth
    # identifiers a person uses that the default chain cannot match (NetBIOS, plus tags, ...)
    fixable = sorted(raw for raw, t in truth.items()
                     if t.person and t.default.status.value != "MATCHED")  # fmt: skip
    assert fixable
    (tmp_path / "ids.txt").write_text("\n".join(fixable) + "\n", encoding="utf-8")
    report = tmp_path / "unmatched.csv"
    first = cli.run(*cli.with_config("correlate", "--input", "ids.txt", "--out", str(report)))
    assert first.code == 0, first.stderr
    with report.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["reason_code"] for r in rows} <= {t.default.reason.value for t in truth.values()}
    for row in rows:  # the reviewer's decision: map each to the person it belongs to
        raw = (
            json.loads(row["raw_examples"])[0]
            if row["raw_examples"].startswith("[")
            else (row["raw_examples"])
        )
        row.update(action="map", target_field="sys_id", target_value=truth[raw].person)
    with (tmp_path / "aliases.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with cli.config.open("a", encoding="utf-8") as handle:
        handle.write('alias_map = "aliases.csv"\n')  # the [correlation] table is last
    second = cli.run(
        *cli.with_config("correlate", "--input", "ids.txt", "--out", "again.json", "--json")
    )
    assert second.code == 0, second.stderr
    summary = second.json()["summary"]
    assert summary["by_status"] == {"MATCHED": len(fixable)}


def test_correlate_reads_the_identifiers_of_a_snapshot(tmp_path, shared_sandbox):
    from cisync_lib.sync import job_from_config

    cli = cli_for(shared_sandbox, tmp_path)
    source = job_from_config(load_deployment(cli.config), "test").source
    save_snapshot(source.read(period="P30D", include_users=True), tmp_path / "snapshot.json")
    result = cli.run(
        *cli.with_config("correlate", "--snapshot", "snapshot.json", "--out", "u.json", "--json")
    )
    assert result.code == 0, result.stderr
    rows = json.loads((tmp_path / "u.json").read_text(encoding="utf-8"))["rows"]
    truth = shared_sandbox.tenant.truth
    raws = {raw for row in rows for raw in row["raw_examples"]}
    assert raws
    for row in rows:  # each unmatched identifier with the reason its ground truth gives
        assert {truth[raw].default.reason.value for raw in row["raw_examples"]} == {
            row["reason_code"]
        }
        assert row["app"], "a snapshot's identifiers carry the app they were seen in"
    tenant = shared_sandbox.tenant
    reported = {raw for s in tenant.streams if not s.is_snapshot for a in tenant.apps("P30D", s.id)
                for raw in tenant.users("P30D", s.id, a.id)}  # fmt: skip
    unmatched = {raw for raw in reported if truth[raw].default.status.value != "MATCHED"}
    assert raws <= unmatched
    assert {truth[r].default.reason for r in raws} == {truth[r].default.reason for r in unmatched}


# --- report ----------------------------------------------------------------------------


def test_report_renders_text_json_and_html(tmp_path, shared_sandbox):
    cli = cli_for(shared_sandbox, tmp_path)
    assert cli.run(*cli.with_config("plan", "--report", "r.json", "-q")).code == 0
    text = cli.run("report", "r.json", "--unmatched")
    assert text.code == 0
    assert "Changes (planned)" in text.stdout
    as_json = cli.run("report", "r.json", "--format", "json")
    assert json.loads(as_json.stdout)["mode"] == "plan"
    assert cli.run("report", "r.json", "--format", "html", "--out", "r.html").code == 0
    assert "<table>" in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert cli.run("report", "cisync.toml").code == 2


# --- demo and sandbox serve -------------------------------------------------------------


def test_demo_twice_second_time_writes_nothing(tmp_path):
    cli = Cli(tmp_path)
    first = cli.run("demo", "--size", "tiny", "--json")
    assert first.code == 0, first.stderr
    runs = first.json()["runs"]
    assert sum(runs[0]["written"].values()) > 0
    assert runs[0]["written"]["add_link"] > 0
    assert sum(runs[1]["written"].values()) == 0
    config = load_deployment(tmp_path / ".cisync" / "demo" / "cisync.toml")
    assert config.settings().effective("test").allow_user_sync is True
    assert config.settings_file.consent_log("demo")
    again = cli.run("demo")
    assert again.code == 0, again.stderr
    assert "Nothing written" in again.stdout
    assert "Second run: 0 writes" in again.stdout
    assert "docs/tutorial.md" in again.stdout  # the demo ends by pointing at what next
    assert "cisync init" in again.stdout
    assert cli.run("demo", "--size", "small").code == 2  # another size needs --reset


def test_sandbox_serve_then_init_from_it_then_plan(tmp_path):
    command = [cisync_executable(), "sandbox", "serve", "--size", "tiny", "--json"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as server:
        try:
            line = server.stdout.readline()
            (tmp_path / "sandbox.json").write_text(line, encoding="utf-8")
            cli = Cli(tmp_path)
            init = cli.run("init", "--sandbox", "sandbox.json")
            assert init.code == 0, init.stderr
            plan = cli.run("plan", "--config", "cisync.toml", "--env", "test", "--json")
            assert plan.code == 0, plan.stderr
            assert plan.json()["counts"]["create_app"] > 0
        finally:
            server.terminate()
