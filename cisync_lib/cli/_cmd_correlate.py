"""``cisync correlate``: resolve identifiers against ``sys_user``, write the unmatched report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cisync_lib.correlation import CorrelationReport, ObservedName, ServiceNowUserDirectory
from cisync_lib.defender import load_snapshot
from cisync_lib.errors import ConfigError
from cisync_lib.sync import Preflight, load_deployment, observed_names

from ._common import (
    EXIT_CODES_HELP,
    EXIT_OK,
    Output,
    config_options,
    output_options,
    run_command,
)

if TYPE_CHECKING:
    from cisync_lib.correlation import ObservedName

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``correlate``."""
    parser = subparsers.add_parser(
        "correlate",
        parents=[config_options(), output_options()],
        help="match user identifiers to sys_user and write the unmatched report",
        description="Resolve Defender user identifiers (from a text file, one per line, or "
        "from a snapshot) against the destination's sys_user table with the configured chain "
        "and alias map, and write the unmatched report. Fill in its last columns "
        "(action, target_field, target_value) and use it as the alias map.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", type=Path, metavar="FILE", help="identifiers, one per line")
    source.add_argument("--snapshot", type=Path, metavar="FILE", help="a Defender snapshot")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("unmatched.csv"),
        metavar="FILE",
        help="the report: .csv (an alias-map seed) or .json (default: unmatched.csv)",
    )
    parser.add_argument(
        "--include-matched", action="store_true", help="list matched identifiers too"
    )
    parser.set_defaults(handler=lambda a: run_command(a, _correlate))


def _names(args: argparse.Namespace) -> list[ObservedName]:
    if args.snapshot is not None:
        data = load_snapshot(args.snapshot)
        names, _apps = observed_names(data, [merged.id for merged in data.apps])
        return names
    try:
        lines = args.input.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(file=str(args.input), problem=f"cannot read: {exc.strerror}") from exc
    return [ObservedName(raw=line) for line in lines if line.strip() and not line.startswith("#")]


def _correlate(args: argparse.Namespace, out: Output) -> int:
    config = load_deployment(args.config)
    destination = config.destination(args.env, args.destination)
    conn = config.servicenow(args.env, destination.name)
    # a wrong password or an unreachable instance: one line and exit 1, not a report of
    # lookup errors (and one 401, not one per chunk of identifiers)
    Preflight(config=config, destination=destination).check_servicenow(conn)
    correlator = config.correlator()
    names = _names(args)
    with out.progress() as progress:
        progress("correlate", 0, len(names))
        results = correlator.resolve(names, ServiceNowUserDirectory(conn))
        progress("correlate", len(names), len(names))
    report = CorrelationReport.from_results(results, include_matched=args.include_matched)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.suffix.lower() == ".json":
        report.write_json(args.out)
    else:
        report.write_csv(args.out)
    summary = report.summary()
    out.data({"summary": summary.as_dict(), "report_file": str(args.out)})
    out.text(str(summary))
    for reason, count in sorted(summary.by_reason.items(), key=lambda kv: -kv[1]):
        out.text(f"  {reason:<24} {count:>6}")
    out.text(f"Unmatched report: {args.out} ({len(report.rows())} rows)")
    out.text(
        "To fix a row: set action=map, target_field=sys_id|user_name|email, target_value=..., "
        "then name the file as correlation.alias_map in the config."
    )
    return EXIT_OK
