"""What every ``cisync`` command shares: exit codes, errors, output modes, progress bars."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from cisync_lib.errors import (
    ApprovalDeclinedError,
    ApprovalRequiredError,
    CisyncError,
    ConfigError,
    ConsentRequiredError,
    CorrelationError,
    DocumentError,
    GuardRefusedError,
    JobLockedError,
    PlanDestinationError,
    PlanError,
    RelationshipNotAvailableError,
    SnapshotError,
    StalePlanError,
)

from ._logging import configure_logging

__all__ = [
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "EXIT_CODES_HELP",
    "Output",
    "command_line",
    "config_options",
    "describe_os_error",
    "exit_code_for",
    "output_options",
    "run_command",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_PARTIAL = 4
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """\
exit codes:
  0  done
  1  error (a service failed, a write failed, an unexpected problem)
  2  usage or configuration error (bad option, invalid config, missing secret)
  3  refused: by the blast-radius guard, for missing consent (--i-consent),
     because a reviewed plan is stale or was made for another destination,
     because another run is writing to the same destination, or not approved
     at the prompt; nothing was written
  4  partial: some sys_user lookups failed or rows were hidden; everything else
     was done, links of those users were left as they were; re-run to complete
130  interrupted (Ctrl-C); the message says how many changes were written
"""

DEFAULT_CONFIG = "cisync.toml"


def exit_code_for(exc: BaseException) -> int:
    """The exit code an error maps to (see :data:`EXIT_CODES_HELP`)."""
    if isinstance(
        exc,
        (
            GuardRefusedError,
            ConsentRequiredError,
            StalePlanError,
            PlanDestinationError,
            JobLockedError,
            ApprovalDeclinedError,
        ),
    ):
        return EXIT_REFUSED
    if isinstance(
        exc,
        (ConfigError, RelationshipNotAvailableError, CorrelationError, ApprovalRequiredError),
    ):
        return EXIT_USAGE
    if type(exc) is PlanError:  # an unreadable or foreign plan file
        return EXIT_USAGE
    if isinstance(exc, DocumentError) and not isinstance(exc, SnapshotError):
        return EXIT_USAGE  # a plan, report or run-state file that cannot be used
    return EXIT_ERROR


def describe_os_error(exc: OSError) -> str:
    """One line for a failed file operation: the file, the cause, and what to check."""
    where = f" {exc.filename}" if exc.filename else ""
    cause = exc.strerror or str(exc)
    return (
        f"cannot use{where}: {cause}. Check that the folder exists, is writable by this user "
        "and has free space"
    )


def output_options() -> argparse.ArgumentParser:
    """Options every command takes: ``--json``, ``--quiet``, ``-v``, ``--debug``, ``--no-color``."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("output")
    group.add_argument(
        "--json",
        action="store_true",
        help="print one JSON document on stdout (for scripts; schema: docs/cli-json.schema.json)",
    )
    group.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bars and no summary text"
    )
    group.add_argument(
        "-v", "--verbose", action="store_true", help="log what cisync does (INFO) on stderr"
    )
    group.add_argument(
        "--debug",
        action="store_true",
        help="log every request with its request or transaction id (DEBUG); never secrets",
    )
    group.add_argument(
        "--no-color",
        action="store_true",
        help="no colours or styles (the NO_COLOR environment variable does the same)",
    )
    return parent


def config_options(*, env: bool = True, env_required: bool = True) -> argparse.ArgumentParser:
    """Options of the commands that read a deployment config."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("deployment")
    group.add_argument(
        "--config",
        type=Path,
        default=Path(os.environ.get("CISYNC_CONFIG", DEFAULT_CONFIG)),
        metavar="FILE",
        help=f"the deployment config (default: $CISYNC_CONFIG or {DEFAULT_CONFIG})",
    )
    if env:
        group.add_argument(
            "--env",
            choices=("test", "prod"),
            required=env_required,
            help="the environment: picks the destination tagged so and its settings",
        )
        group.add_argument("--destination", metavar="NAME", help="the destination by name")
    group.add_argument("--connection", metavar="NAME", help="the source connection by name")
    return parent


class Output:
    """Where a command's results go: text for people, JSON for scripts, progress on stderr.

    Args:
        json_mode: print exactly one JSON document on stdout.
        quiet: no progress bars and no text beyond errors.
        stdout, stderr: the streams (the real ones by default).
    """

    def __init__(
        self,
        *,
        json_mode: bool = False,
        quiet: bool = False,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        no_color: bool = False,
    ) -> None:
        self.json_mode = json_mode
        self.no_color = no_color
        self.quiet = quiet
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Output:
        """The output the parsed options ask for."""
        no_color = bool(getattr(args, "no_color", False)) or bool(os.environ.get("NO_COLOR"))
        return cls(
            json_mode=bool(getattr(args, "json", False)),
            quiet=bool(args.quiet),
            no_color=no_color,
        )

    def text(self, message: str = "") -> None:
        """Print text for people (nothing in JSON or quiet mode)."""
        if not (self.json_mode or self.quiet):
            print(message, file=self.stdout, flush=True)

    def note(self, message: str) -> None:
        """Print a side note on stderr (not in quiet mode)."""
        if not self.quiet:
            print(message, file=self.stderr, flush=True)

    def data(self, document: Any) -> None:
        """Print the JSON document (JSON mode only)."""
        if self.json_mode:
            print(json.dumps(document, indent=2, ensure_ascii=False, default=str), file=self.stdout)

    def error(self, exc: BaseException, code: int) -> None:
        """Report an error: on stderr, and as JSON on stdout in JSON mode."""
        kind = type(exc).__name__
        print(f"cisync: {kind}: {exc}", file=self.stderr, flush=True)
        if self.json_mode:
            self.data({"error": {"type": kind, "message": str(exc), "exit_code": code}})

    @property
    def interactive(self) -> bool:
        """Whether progress bars may be drawn (a terminal, not quiet, not JSON)."""
        return not (self.quiet or self.json_mode) and self.stderr.isatty()

    @contextmanager
    def progress(self) -> Iterator[Callable[[str, int, int | None], None]]:
        """A progress callback drawing one bar per phase (a no-op when not interactive)."""
        if not self.interactive:
            yield lambda _phase, _done, _total: None
            return
        # lazy: rich comes with the optional extra `cli`
        try:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
        except ImportError:  # the cli extra is not installed: no bars
            yield lambda _phase, _done, _total: None
            return
        bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            # the time left, estimated from the rate so far, where the phase knows its total
            TextColumn("{task.fields[eta]}"),
            TimeRemainingColumn(),
            console=Console(file=self.stderr, no_color=self.no_color),
            transient=True,
        )
        tasks: dict[str, Any] = {}

        def update(phase: str, done: int, total: int | None) -> None:
            # an unknown total draws a pulsing bar and shows only the count
            label = f"{phase:<10} {done}/{total}" if total else f"{phase:<10} {done}"
            eta = "eta" if total else ""
            if phase not in tasks:
                tasks[phase] = bars.add_task(label, total=total, eta=eta)
            bars.update(tasks[phase], completed=done, total=total, description=label, eta=eta)

        with bars:
            yield update


def command_line(
    args: argparse.Namespace, *extra: str, command: str | None = None, keep_plan: bool = True
) -> str:
    """The ``cisync`` command line that repeats this run's deployment options, for hints.

    Args:
        args: the parsed options.
        extra: options to append (``--yes``, ``--force``).
        command: the sub-command (default: the one being run).
        keep_plan: repeat ``--plan FILE`` when the run had one.
    """
    words = ["cisync", command or str(getattr(args, "command", "") or "")]
    config = getattr(args, "config", None)
    if config is not None and str(config) != DEFAULT_CONFIG:
        words += ["--config", str(config)]
    for option in ("env", "destination", "connection"):
        value = getattr(args, option, None)
        if value:
            words += [f"--{option}", str(value)]
    plan = getattr(args, "plan", None)
    if keep_plan and plan is not None and (command or args.command) == "apply":
        words += ["--plan", str(plan)]
    return shlex.join([*words, *extra])


def run_command(args: argparse.Namespace, body: Callable[[argparse.Namespace, Output], int]) -> int:
    """Run a command body, turning errors into messages and exit codes."""
    out = Output.from_args(args)
    configure_logging(
        verbose=bool(getattr(args, "verbose", False)), debug=bool(getattr(args, "debug", False))
    )
    try:
        return body(args, out)
    except CisyncError as exc:
        code = exit_code_for(exc)
        out.error(exc, code)
        return code
    except BrokenPipeError:
        raise  # the reader went away (`cisync ... | head`): main() ends quietly
    except OSError as exc:
        # a file the command had to write or read (reports, plans, the state folder):
        # one line naming the file and the cause, never a traceback
        out.error(OSError(describe_os_error(exc)), EXIT_ERROR)
        return EXIT_ERROR
    except KeyboardInterrupt as exc:
        # an ``Interrupted`` carries the statement of writes; a bare Ctrl-C wrote nothing
        statement = getattr(exc, "statement", "nothing written")
        print(f"\ncisync: interrupted: {statement}", file=out.stderr, flush=True)
        if out.json_mode:
            out.data(
                {
                    "error": {
                        "type": "Interrupted",
                        "message": f"interrupted: {statement}",
                        "exit_code": EXIT_INTERRUPTED,
                    }
                }
            )
        return EXIT_INTERRUPTED
