"""The ``cisync`` console script, run as a subprocess against an in-process sandbox."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from cisync_lib.sync._sandbox_config import write_sandbox_config

PREFIX = "mdca:app:"


def cisync_executable() -> str:
    """The installed console script next to this interpreter (the venv's), else on PATH."""
    here = Path(sys.executable).parent
    found = shutil.which("cisync", path=str(here)) or shutil.which("cisync")
    if found is None:
        pytest.fail("the cisync console script is not installed (pip install -e '.[cli]')")
    return found


@attrs.define
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


@attrs.define
class Cli:
    """Runs ``cisync`` in a folder, with a config pointing at a sandbox."""

    folder: Path
    config: Path | None = None

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Result:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CISYNC_")}
        environ.update(env or {})
        done = subprocess.run(
            [cisync_executable(), *args],
            cwd=self.folder,
            env=environ,
            stdin=subprocess.DEVNULL,  # never a terminal: approval needs --yes, as under cron
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def with_config(self, *args: str, env_name: str | None = "test") -> list[str]:
        """``args`` plus ``--config`` (and ``--env``)."""
        extra = ["--config", str(self.config)]
        if env_name:
            extra += ["--env", env_name]
        return [*args, *extra]


def make_sandbox(factory, size="tiny"):
    from cisync_lib.sandbox import SERVICE_NAMES, SandboxConfig

    return factory(SandboxConfig(size=size, seed=0, services=SERVICE_NAMES))


@pytest.fixture(scope="module")
def shared_sandbox():
    """One tiny sandbox for the tests that do not write to ServiceNow."""
    from cisync_lib.sandbox import SERVICE_NAMES, Sandbox, SandboxConfig

    with Sandbox(SandboxConfig(size="tiny", seed=0, services=SERVICE_NAMES)) as sandbox:
        yield sandbox


@pytest.fixture
def fresh_sandbox(cisync_sandbox_factory):
    """A tiny sandbox of its own, for tests that write."""
    return make_sandbox(cisync_sandbox_factory)


def cli_for(sandbox, folder: Path) -> Cli:
    """A config and secrets file in ``folder`` pointing at ``sandbox``."""
    return Cli(folder=folder, config=write_sandbox_config(folder, sandbox))


def stored_apps(store) -> set[str]:
    return {
        r["correlation_id"]
        for r in store.query("cmdb_ci_business_app")
        if r.get("correlation_id", "").startswith(PREFIX)
    }


def run_on_terminal(
    cli: Cli, *args: str, answer: str | None, timeout: float = 180, term: str = "dumb"
) -> Result:
    """Run ``cisync`` with stdin, stdout and stderr on a pseudo-terminal (stdlib ``pty``).

    When the approval prompt (``Enter a value:``) appears, ``answer`` is typed.
    Returns the exit code and everything the terminal showed (as ``stdout``).
    """
    import pty
    import select
    import time

    environ = {k: v for k, v in os.environ.items() if not k.startswith("CISYNC_")}
    environ.update({"TERM": term, "COLUMNS": "120"})
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [cisync_executable(), *args],
        cwd=cli.folder,
        env=environ,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    shown = b""
    answered = False
    deadline = time.monotonic() + timeout  # a safety net against a hung prompt, not a check
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
                if answer is not None and not answered and b"Enter a value:" in shown:
                    os.write(master, answer.encode() + b"\n")
                    answered = True
            elif proc.poll() is not None:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"cisync did not finish on the terminal; it showed:\n{shown!r}")
        code = proc.wait(timeout=60)
    finally:
        os.close(master)
    return Result(code, shown.decode("utf-8", errors="replace"), "")


def stored_links(store) -> int:
    return store.count("cmdb_rel_person")
