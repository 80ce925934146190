"""``-v``, ``--debug``, ``--no-color``/``NO_COLOR`` and shell completion, through the installed ``cisync``."""

from __future__ import annotations

import tomllib

from .conftest import Cli, cli_for


def _secrets(folder):
    data = tomllib.loads((folder / "cisync-secrets.toml").read_text(encoding="utf-8"))
    found = []
    for section in data.values():
        for entry in section.values():
            found += [str(v) for v in entry.values()]
    assert found
    return found


def test_debug_logs_requests_with_their_ids_and_never_a_secret(tmp_path, shared_sandbox):
    cli = cli_for(shared_sandbox, tmp_path)
    debug = cli.run(*cli.with_config("plan", "--debug", "--no-color"))
    assert debug.code == 0, debug.stderr
    assert "DEBUG" in debug.stderr
    assert "(transaction " in debug.stderr  # every ServiceNow answer
    assert "request-id" in debug.stderr  # every Defender answer
    for secret in _secrets(tmp_path):
        assert secret not in debug.stderr
        assert secret not in debug.stdout
    verbose = cli.run(*cli.with_config("plan", "-v"), env={"NO_COLOR": "1"})
    assert verbose.code == 0, verbose.stderr
    assert " INFO " in verbose.stderr
    assert " DEBUG " not in verbose.stderr
    quiet = cli.run(*cli.with_config("plan", "--quiet"))
    assert quiet.code == 0
    assert quiet.stdout == ""
    assert quiet.stderr == ""


def test_shell_completion_answers_when_the_extra_is_installed(tmp_path):
    target = tmp_path / "completions.txt"
    result = Cli(tmp_path).run(
        env={
            "_ARGCOMPLETE": "1",
            "_ARGCOMPLETE_SHELL": "bash",
            "COMP_LINE": "cisync pl",
            "COMP_POINT": "9",
            "_ARGCOMPLETE_STDOUT_FILENAME": str(target),
        }
    )
    assert result.code == 0
    assert target.read_text(encoding="utf-8").split() == ["plan"]


def test_progress_moves_on_a_terminal_and_is_silent_otherwise(tmp_path, fresh_sandbox):
    from cisync_lib.sandbox import FaultRule

    from .conftest import run_on_terminal

    cli = cli_for(fresh_sandbox, tmp_path)
    consent = ("--i-consent", "--by", "tests")
    assert (
        cli.run(*cli.with_config("settings", "set", "allow_user_sync", "true", *consent)).code == 0
    )
    # slow pages, so that the bars are drawn at least once per phase
    fresh_sandbox.faults.add(FaultRule(kind="latency", delay=0.3))
    shown = run_on_terminal(cli, *cli.with_config("apply", "--yes"), answer=None, term="xterm")
    assert shown.code == 0, shown.stdout
    for phase in ("read", "correlate", "apply"):
        assert phase in shown.stdout
    assert "eta" in shown.stdout
    fresh_sandbox.faults.clear()
    piped = cli.run(*cli.with_config("plan"))
    assert piped.code == 0
    assert piped.stderr == ""  # no bars, no control characters when not a terminal
    assert "\x1b" not in piped.stdout
