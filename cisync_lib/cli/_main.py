"""Entry point of the ``cisync`` console script.

Exit codes: 0 done, 1 error, 2 usage or configuration error, 3 refused by a
guard, by missing consent, because a reviewed plan is stale or because the
operator did not approve it, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence

from cisync_lib import __version__

from . import (
    _cmd_check,
    _cmd_correlate,
    _cmd_demo,
    _cmd_init,
    _cmd_report,
    _cmd_settings,
    _cmd_show,
    _cmd_sync,
    _sandbox,
)
from ._common import (
    EXIT_CODES_HELP,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_REFUSED,
    EXIT_USAGE,
)

__all__ = [
    "EXIT_ERROR",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "build_parser",
    "main",
]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="cisync",
        description="Sync Defender for Cloud Apps discovered apps and users into ServiceNow. "
        "Start with `cisync demo`; for a real deployment, `cisync init`.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _cmd_demo.register(subparsers)
    _cmd_init.register(subparsers)
    _cmd_sync.register(subparsers)
    _cmd_check.register(subparsers)
    _cmd_settings.register(subparsers)
    _cmd_correlate.register(subparsers)
    _cmd_report.register(subparsers)
    _cmd_show.register(subparsers)
    _sandbox.register(subparsers)
    return parser


def _complete(parser: argparse.ArgumentParser) -> None:
    """Answer a shell's completion request (bash/zsh) when the ``completion`` extra is installed.

    Enable it once per shell: ``eval "$(register-python-argcomplete cisync)"``.
    Outside a completion request this returns at once.
    """
    if "_ARGCOMPLETE" not in os.environ:
        return
    # lazy: argcomplete is an optional extra (`completion`), needed only while completing
    try:
        import argcomplete
    except ImportError:  # the extra is not installed: no completion, nothing else changes
        return
    argcomplete.autocomplete(parser)


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace | None:
    """Parse ``argv``; a usage error also prints the error JSON when ``--json`` was asked for."""
    if "--json" not in argv:
        return parser.parse_args(argv)
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            return parser.parse_args(argv)
    except SystemExit as exc:
        sys.stderr.write(captured.getvalue())
        if exc.code in (0, None):  # --help
            raise
        lines = [line for line in captured.getvalue().splitlines() if line.strip()]
        message = lines[-1] if lines else "usage error"
        document = {"error": {"type": "UsageError", "message": message, "exit_code": EXIT_USAGE}}
        print(json.dumps(document, indent=2))
        return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``cisync`` command and return its exit code."""
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C must interrupt even when started with SIGINT ignored (a background job)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    parser = build_parser()
    _complete(parser)
    args = _parse(parser, list(sys.argv[1:] if argv is None else argv))
    if args is None:
        return EXIT_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    handler = getattr(args, "handler", None)
    if handler is None:  # pragma: no cover - every command sets its handler
        return EXIT_OK
    try:
        code = int(handler(args))
    except BrokenPipeError:
        # the reader went away (``cisync report ... | head``): not an error of ours;
        # point stdout at devnull so the interpreter's final flush stays quiet
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    if code == EXIT_INTERRUPTED and argv is None:
        # Ctrl-C, run as the console script: the report is saved and the statement
        # printed; leave now rather than let the interpreter wait for worker threads
        # still blocked in requests whose answers nobody will read (Ctrl-C within a second)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
