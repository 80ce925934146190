"""Developer and CI sessions: ``nox -s tests`` is what CI runs (through ``.ci/run``)."""

from __future__ import annotations

import glob
import os

import nox

nox.options.sessions = ["tests", "lint", "typing", "docs", "examples"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_external_run = True

PYTHON = os.environ.get("CISYNC_NOX_PYTHON") or None  # default: the interpreter running nox


def _fail_on_no_tests(session: nox.Session, *args: str) -> None:
    # pytest exits 5 when it collected nothing: that must fail CI, never pass it
    session.run("python", "-m", "pytest", *args, success_codes=[0])


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Install the package with its test extra and run the whole test suite."""
    session.install("-e", ".[test,notebook]")
    _fail_on_no_tests(session, *session.posargs)


@nox.session(python=PYTHON)
def benchmarks(session: nox.Session) -> None:
    """Run the benchmarks (excluded from the default run); they print their figures."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "-m", "benchmark", "-s", "benchmarks", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typing(session: nox.Session) -> None:
    """mypy --strict on the package and on an embedder's use of the public API."""
    # pytest: the sandbox's pytest plugin (a public module) is type-checked too
    session.install(
        "-e", ".[sandbox,cli]", "mypy>=1.10", "types-requests", "types-PyYAML", "pytest>=8.0"
    )
    session.run("mypy", "--strict", "cisync_lib")
    session.run("mypy", "--strict", "tests/typing")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the docs with warnings as errors and nitpicky references."""
    session.install("-e", ".[docs,sandbox,cli]")
    session.run(
        "sphinx-build", "-W", "--keep-going", "-n", "-b", "html", "docs", "docs/_build/html"
    )


@nox.session(python=PYTHON)
def examples(session: nox.Session) -> None:
    """Run every example script (against the built-in sandbox) and execute the notebook."""
    session.install("-e", ".[sandbox,cli,notebook]")
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
