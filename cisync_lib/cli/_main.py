"""Entry point of the ``cisync`` console script.

Exit codes: 0 done, 1 error, 2 usage or configuration error, 3 refused by a
guard or by missing consent.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cisync_lib._version import __version__

from . import _sandbox

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="cisync",
        description="Sync Defender for Cloud Apps discovered apps and users into ServiceNow.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _sandbox.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``cisync`` command and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    handler = getattr(args, "handler", None)
    if handler is not None:
        return int(handler(args))
    return EXIT_OK  # pragma: no cover - every command returns its own code
