"""Every command's ``--json`` output, success and error, against ``docs/cli-json.schema.json``.

The schema is written by hand from the documented output (the oracle); the
documents are real outputs of the installed ``cisync`` against the sandbox.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from pathlib import Path

import jsonschema
import pytest

from cisync_lib.cli._main import build_parser

from .conftest import Cli, Result, cisync_executable, cli_for

SCHEMA = json.loads(
    (Path(__file__).parents[3] / "docs" / "cli-json.schema.json").read_text(encoding="utf-8")
)
CONSENT = ("--i-consent", "--by", "tests")


def _validate(document, definition: str) -> None:
    """Valid against the command's own definition and against the schema as a whole."""
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    whole = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    whole.validate(document)
    one = {"$defs": SCHEMA["$defs"], "$ref": f"#/$defs/{definition}"}
    jsonschema.Draft202012Validator(one, format_checker=jsonschema.FormatChecker()).validate(
        document
    )


def _commands() -> set[str]:
    """Every command and ``settings``/``sandbox`` action the parser knows."""
    found: set[str] = set()

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    if any(isinstance(a, argparse._SubParsersAction) for a in sub._actions):
                        walk(sub, f"{prefix}{name} ")
                    else:
                        found.add(f"{prefix}{name}")

    walk(build_parser(), "")
    return found


def _ok(result: Result, definition: str):
    assert result.code == 0, result.stderr
    document = result.json()
    _validate(document, definition)
    return document


def _error(result: Result, code: int):
    assert result.code == code, (result.stdout, result.stderr)
    document = result.json()
    _validate(document, "error")
    assert document["error"]["exit_code"] == code
    return document


def test_every_command_prints_json_the_schema_describes(tmp_path, fresh_sandbox):
    covered: set[str] = set()

    def did(name):
        covered.add(name)

    cli = cli_for(fresh_sandbox, tmp_path)
    run = cli.run

    _ok(run(*cli.with_config("check", "--json")), "check")
    _error(run(*cli.with_config("check", "--json", "--destination", "nope")), 2)
    did("check")

    _ok(run(*cli.with_config("settings", "show", "--json", env_name=None)), "settings_show")
    _error(run("settings", "show", "--json", "--config", "missing.toml"), 2)
    did("settings show")
    changed = run(*cli.with_config("settings", "set", "allow_user_sync", "true", "--json",
                                   *CONSENT))  # fmt: skip
    assert _ok(changed, "settings_change")["changes"]
    _error(run(*cli.with_config("settings", "set", "max_risk_score", "5", "--json")), 3)
    did("settings set")
    _ok(run(*cli.with_config("settings", "diff", "--json", env_name=None)), "settings_diff")
    _error(run("settings", "diff", "--json", "--config", "missing.toml"), 2)
    did("settings diff")
    _ok(run(*cli.with_config("settings", "promote", "--json", *CONSENT, env_name=None)),
        "settings_change")  # fmt: skip
    _error(run(*cli.with_config("settings", "promote", "no_such_key", "--json", *CONSENT,
                                env_name=None)), 2)  # fmt: skip
    did("settings promote")

    planned = _ok(run(*cli.with_config("plan", "--json", "--out", "plan.json")), "run_report")
    assert "actions" not in planned  # the summary and counts; every row only with --all
    assert planned["actions_total"] > 0
    full = _ok(run(*cli.with_config("plan", "--json", "--all")), "run_report")
    assert len(full["actions"]) == planned["actions_total"]
    _error(run(*cli.with_config("plan", "--json", "--destination", "nope")), 2)
    _error(run("plan", "--env", "staging", "--json"), 2)  # a usage error, as JSON too
    did("plan")

    _ok(run(*cli.with_config("sync", "--json")), "run_report")
    _error(run(*cli.with_config("sync", "--apply", "--json")), 2)  # no terminal, no --yes
    did("sync")

    applied = _ok(run(*cli.with_config("apply", "--yes", "--json")), "run_report")
    assert applied["outcome"] == "applied"
    stale = _error(run(*cli.with_config("apply", "--yes", "--plan", "plan.json", "--json")), 3)
    assert stale["error"]["type"] == "StalePlanError"
    did("apply")

    report_file = applied["report_file"]
    brief = _ok(run("report", report_file, "--json"), "saved_document")
    assert "actions" not in brief
    assert "actions" in _ok(run("report", report_file, "--json", "--all"), "saved_document")
    _error(run("report", "cisync.toml", "--json"), 2)
    did("report")
    shown = _ok(run("show", "plan.json", "--json"), "saved_document")
    assert shown["kind"] == "plan"
    last = tmp_path / "state" / "sandbox--test" / "reports" / "last.json"
    assert _ok(run("show", str(last), "--json"), "saved_document")["outcome"] == "refused"
    _error(run("show", "missing.json", "--json"), 2)
    did("show")

    ids = tmp_path / "ids.txt"
    ids.write_text("alice@contoso.com\nCONTOSO\\bob\n", encoding="utf-8")
    _ok(run(*cli.with_config("correlate", "--input", str(ids), "--out", "u.csv", "--json")),
        "correlate")  # fmt: skip
    _error(run(*cli.with_config("correlate", "--input", "missing.txt", "--json")), 2)
    did("correlate")

    folder = tmp_path / "init"
    folder.mkdir()
    fresh = Cli(folder)
    _ok(fresh.run("init", "--json"), "init")
    _error(fresh.run("init", "--json"), 2)  # never overwrites
    did("init")

    demo = _ok(Cli(folder).run("demo", "--size", "tiny", "--state", "demo", "--json",
                               timeout=300), "demo")  # fmt: skip
    assert len(demo["runs"]) == 2
    _error(Cli(folder).run("demo", "--size", "small", "--state", "demo", "--json"), 2)
    did("demo")

    environ = {k: v for k, v in os.environ.items() if not k.startswith("CISYNC_")}
    serve = subprocess.Popen(
        [cisync_executable(), "sandbox", "serve", "--json", "--size", "tiny"],
        cwd=tmp_path, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = serve.stdout.readline()
    finally:
        serve.terminate()
        serve.communicate(timeout=60)
    _validate(json.loads(line), "sandbox_serve")
    _error(Cli(tmp_path).run("sandbox", "serve", "--size", "huge", "--json"), 2)
    did("sandbox serve")

    missing = _commands() - covered
    assert not missing, f"add these commands to the schema test: {sorted(missing)}"


@pytest.mark.parametrize("code", [1, 2, 3, 4, 130])
def test_the_error_document_takes_every_reserved_exit_code(code):
    _validate({"error": {"type": "X", "message": "m", "exit_code": code}}, "error")
    with pytest.raises(jsonschema.ValidationError):
        _validate({"error": {"type": "X", "message": "m", "exit_code": 5}}, "error")
