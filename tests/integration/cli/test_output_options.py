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
