"""``cisync report``: render a saved sync report as text, JSON or HTML."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cisync_lib.files import PRIVATE, write_atomic
from cisync_lib.sync import SyncReport

from ._cmd_show import json_document, load_saved
from ._common import EXIT_CODES_HELP, EXIT_OK, Output, output_options, run_command

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``report``."""
    parser = subparsers.add_parser(
        "report",
        parents=[output_options()],
        help="show a saved sync report (text, JSON or HTML)",
        description="Render a report saved by plan/apply/sync (each run saves one in the "
        "state folder, under reports/; reports/last.json is the latest).",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", type=Path, help="the report (JSON)")
    parser.add_argument(
        "--format", choices=("text", "json", "html"), default="text", help="default: text"
    )
    parser.add_argument(
        "--unmatched", action="store_true", help="(text) also list every unmatched identifier"
    )
    parser.add_argument("--out", type=Path, metavar="FILE", help="write to FILE, not stdout")
    parser.add_argument(
        "--all",
        action="store_true",
        help="with --json: every planned change and unmatched identifier (--format json "
        "always has them)",
    )
    parser.add_argument(
        "--unmatched-csv",
        type=Path,
        metavar="FILE",
        help="also write the unmatched users as an alias-map seed (CSV) to FILE",
    )
    parser.set_defaults(handler=lambda a: run_command(a, _report))


def _render(report: SyncReport, args: argparse.Namespace) -> str:
    if args.format == "json" or args.json:
        return report.to_json()
    if args.format == "html":
        return "<!doctype html><meta charset=utf-8><title>cisync report</title>" + (
            report._repr_html_()
        )
    text = report.summary()
    if args.unmatched:
        lines = [
            f"  {u.reason:<24} {u.identifier}  ({', '.join(u.apps[:3])})" for u in report.unmatched
        ]
        text += "\nUnmatched identifiers:\n" + "\n".join(lines)
    return text


def _report(args: argparse.Namespace, out: Output) -> int:
    report = load_saved(args.file).report  # a saved plan renders as its report
    if args.unmatched_csv is not None:
        report.write_unmatched_csv(args.unmatched_csv)
        out.note(f"unmatched users: {args.unmatched_csv} ({len(report.unmatched)} rows)")
    text = _render(report, args)
    if args.out is not None:
        write_atomic(args.out, text + "\n", mode=PRIVATE)
        out.note(f"written: {args.out}")
    elif args.json:
        out.data(json_document(report, full=args.all))
    elif not args.quiet:
        print(text, file=out.stdout)
    return EXIT_OK
