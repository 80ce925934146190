"""Developer and CI sessions: ``nox -s tests`` is what CI runs (through ``.ci/run``).

Reproducible runs: every session installs against ``constraints.txt``, the exact versions
CI was last green with. ``install_requires`` stays a range (this is a library); the
constraints only pin what our own sessions install. Refresh them on purpose with
``nox -s lock``. ``nox -s tests_latest`` runs the suite against the newest release of
every dependency, so upstream drift shows up as its own, separate signal.
"""

from __future__ import annotations

import glob
import os

import nox

nox.options.sessions = ["tests", "lint", "typing", "docs", "examples"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_external_run = True

PYTHON = os.environ.get("CISYNC_NOX_PYTHON") or None  # default: the interpreter running nox
CONSTRAINTS = ("-c", "constraints.txt")
# every extra and tool a session installs: the set `nox -s lock` resolves and pins
_LOCKED = ("-e", ".[all]", "nox", "ruff", "mypy", "types-requests", "types-PyYAML")


def _fail_on_no_tests(session: nox.Session, *args: str) -> None:
    # pytest exits 5 when it collected nothing: that must fail CI, never pass it
    session.run("python", "-m", "pytest", *args, success_codes=[0])


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Install the package with its test extra and run the whole test suite."""
    session.install(*CONSTRAINTS, "-e", ".[test,notebook]")
    _fail_on_no_tests(session, *session.posargs)


@nox.session(python=PYTHON)
def tests_latest(session: nox.Session) -> None:
    """The whole suite against the newest release of every dependency (no constraints).

    Not part of CI's gate: a failure here means an upstream release changed behaviour,
    to be fixed (or bounded in ``install_requires``) before ``nox -s lock`` takes it.
    """
    session.install("--upgrade", "--upgrade-strategy", "eager", "-e", ".[test,notebook]")
    session.run("python", "-m", "pip", "list", "--format=freeze")
    _fail_on_no_tests(session, *session.posargs)


@nox.session(python=PYTHON)
def lock(session: nox.Session) -> None:
    """Refresh ``constraints.txt`` from a fresh resolve of every extra and tool (on purpose)."""
    session.install("--upgrade", *_LOCKED)
    frozen = session.run("python", "-m", "pip", "freeze", "--exclude-editable", silent=True)
    assert isinstance(frozen, str)
    pins = sorted(
        (line for line in frozen.splitlines() if "==" in line and not line.startswith("-e")),
        key=str.lower,
    )
    with open("constraints.txt", "w", encoding="utf-8") as out:
        out.write(_LOCK_HEADER)
        out.write("\n".join(pins) + "\n")
    session.log(f"constraints.txt: {len(pins)} pins")


@nox.session(python=PYTHON)
def benchmarks(session: nox.Session) -> None:
    """Run the benchmarks (excluded from the default run); they print their figures."""
    session.install(*CONSTRAINTS, "-e", ".[test]")
    session.run("python", "-m", "pytest", "-m", "benchmark", "-s", "benchmarks", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff lint and format check, and the import contracts (layers, public API, no cycle)."""
    # import-linter checks the [tool.importlinter] contracts in pyproject.toml; it reads the
    # package's source, so the package is installed (without extras: nothing is imported)
    session.install(*CONSTRAINTS, "ruff>=0.6", "import-linter>=2.17", "-e", ".")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports", "--no-cache")


@nox.session(python=PYTHON)
def typing(session: nox.Session) -> None:
    """mypy --strict on the package and on an embedder's use of the public API."""
    # pytest: the sandbox's pytest plugin (a public module) is type-checked too
    session.install(
        *CONSTRAINTS,
        "-e",
        ".[sandbox,cli,completion]",
        "mypy>=1.10",
        "types-requests",
        "types-PyYAML",
        "pytest>=8.0",
    )
    session.run("mypy", "--strict", "cisync_lib")
    session.run("mypy", "--strict", "tests/typing")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the docs with warnings as errors and nitpicky references."""
    session.install(*CONSTRAINTS, "-e", ".[docs,sandbox,cli]")
    session.run(
        "sphinx-build", "-W", "--keep-going", "-n", "-b", "html", "docs", "docs/_build/html"
    )


@nox.session(python=PYTHON)
def examples(session: nox.Session) -> None:
    """Run every example script (against the built-in sandbox) and execute the notebook."""
    session.install(*CONSTRAINTS, "-e", ".[sandbox,cli,notebook]")
    for script in sorted(glob.glob("examples/*.py")):
        if os.path.basename(script).startswith("_"):  # helpers, e.g. the notebook generator
            continue
        session.run("python", script)
    session.run("python", "-c", _RUN_NOTEBOOK, "examples/explore.ipynb")


# executes a notebook in a fresh kernel and fails on the first cell that raises
_RUN_NOTEBOOK = """
import sys, nbformat
from nbclient import NotebookClient
notebook = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(notebook, timeout=600, kernel_name="python3").execute()
print("executed", sys.argv[1], "without errors")
"""

_LOCK_HEADER = """\
# Exact versions CI installs (pip -c): reproducible runs. Written by `nox -s lock`;
# refresh on purpose, after `nox -s tests_latest` passes. install_requires stays a range.
# Resolved on CPython 3.11 (the CI interpreter).
"""
