"""``cisync show``: render a saved plan (``cisync plan --out``) or a saved report for review."""

from __future__ import annotations

import argparse
import html
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
from attrs import frozen

from cisync_lib.cmdb import plan_from_json
from cisync_lib.errors import ConfigError, PlanFileError
from cisync_lib.files import write_atomic
from cisync_lib.sync import SyncReport

from ._common import EXIT_CODES_HELP, EXIT_OK, Output, output_options, run_command

__all__ = ["PLAN_FORMAT", "Saved", "load_saved", "register", "report_document"]

#: the ``format`` of a plan file written by ``cisync plan --out``
PLAN_FORMAT = "cisync-job-plan"


@frozen(kw_only=True)
class Saved:
    """A saved plan or report, as a report to render.

    Attributes:
        kind: ``plan`` or ``report``.
        report: the report (for a plan: the plan's report, names included).
        path: the file.
        created_at: when a plan was made ("" for a report).
        unusable: why ``cisync apply --plan`` would refuse a plan file it cannot read
            (e.g. saved by an earlier release); "" otherwise.
    """

    kind: str
    report: SyncReport
    path: Path
    created_at: str = ""
    unusable: str = ""


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(file=str(path), problem=f"cannot read: {exc.strerror}") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ConfigError(file=str(path), problem=f"not JSON: {exc}") from exc


def _plan_report(document: dict[str, Any], path: Path) -> SyncReport:
    if isinstance(document.get("report"), dict):
        return SyncReport.from_dict(document["report"], source=f"{path}: report")
    # a plan saved before plans carried their report: rebuild the rows from the plan
    plan = plan_from_json(document.get("cmdb"), source=str(path))
    made = datetime.fromisoformat(str(document.get("created_at") or plan.created_at.isoformat()))
    report = SyncReport.from_plan(
        plan,
        connection=str(document.get("connection", "")),
        destination=str(document.get("destination", "")),
        environment=str(document.get("environment", "")),
    )
    return attrs.evolve(report, started_at=made, finished_at=made)


def _unusable(document: dict[str, Any], path: Path) -> str:
    """Why the plan a saved file holds cannot be applied (an older format); "" if it can."""
    try:
        plan_from_json(document.get("cmdb"), source=str(path))
    except PlanFileError as exc:
        return str(exc)
    return ""


def load_saved(path: Path) -> Saved:
    """Load a plan file or a report file (or a report folder's ``last.json``).

    Raises:
        ConfigError: not readable, not JSON, or neither a plan nor a report.
    """
    document = _read_json(path)
    if isinstance(document, dict) and document.get("format") == PLAN_FORMAT:
        return Saved(
            kind="plan",
            report=_plan_report(document, path),
            path=path,
            created_at=str(document.get("created_at", "")),
            unusable=_unusable(document, path),
        )
    return Saved(kind="report", report=report_document(document, path), path=path)


def report_document(document: Any, path: Path) -> SyncReport:
    """The report a loaded JSON document holds (following a ``last.json`` pointer)."""
    if isinstance(document, dict) and isinstance(document.get("latest"), str):
        target = path.parent / document["latest"]
        return SyncReport.load(target)
    return SyncReport.from_dict(document, source=str(path))


def register(subparsers: Any) -> None:
    """Add ``show``."""
    parser = subparsers.add_parser(
        "show",
        parents=[output_options()],
        help="review a saved plan (cisync plan --out) or report: names, grouped, with totals",
        description="Render a plan saved by `cisync plan --out` or a report saved by any "
        "run (reports/last.json is the latest) for a person to review: the changes by "
        "name (apps, users and their emails), grouped by action, with totals.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", type=Path, help="the plan or report (JSON)")
    parser.add_argument("--html", action="store_true", help="render as an HTML page")
    parser.add_argument("--all", action="store_true", help="list every change (and in --json)")
    parser.add_argument(
        "--limit", type=int, default=20, metavar="N", help="changes listed per group (default 20)"
    )
    parser.add_argument("--out", type=Path, metavar="FILE", help="write to FILE, not stdout")
    parser.set_defaults(handler=lambda a: run_command(a, _show))


def render_text(saved: Saved, *, limit: int | None) -> str:
    """The text a person reads: what the file is, the summary, then the review."""
    report = saved.report
    if saved.kind == "plan":
        head = f"Saved plan {saved.path}, made {saved.created_at or report.started_at.isoformat()}"
        apply = f"cisync apply --env {report.environment} --plan {saved.path}"
        step = (
            f"This plan cannot be applied: {saved.unusable}"
            if saved.unusable
            else f"Apply exactly this plan: {apply}"
        )
        lines = [head, report.review(limit=limit), "", step]
        return "\n".join(lines)
    parts = [report.summary()]
    if report.actions:
        parts += ["", report.review(limit=limit)]
    return "\n".join(parts)


def render_html(saved: Saved, *, limit: int | None) -> str:
    """A self-contained HTML page: the report's tables and the review."""
    review = html.escape(saved.report.review(limit=limit))
    return (
        "<!doctype html><meta charset=utf-8><title>cisync "
        f"{html.escape(saved.kind)}: {html.escape(saved.path.name)}</title>"
        f"{saved.report._repr_html_()}<h4>Changes</h4><pre>{review}</pre>"
    )


def json_document(report: SyncReport, *, full: bool) -> dict[str, Any]:
    """A report for ``--json``: the summary and counts, the lists only when ``full``."""
    data = report.to_dict()
    if not full:
        data["actions_total"] = len(data.pop("actions", ()))
        data["unmatched_total"] = len(data.pop("unmatched", ()))
    return data


def _show(args: argparse.Namespace, out: Output) -> int:
    saved = load_saved(args.file)
    limit = None if args.all else max(args.limit, 0)
    if args.json:
        out.data({"kind": saved.kind, **json_document(saved.report, full=args.all)})
        return EXIT_OK
    text = render_html(saved, limit=limit) if args.html else render_text(saved, limit=limit)
    if args.out is not None:
        write_atomic(args.out, text + "\n")
        out.note(f"written: {args.out}")
    elif not args.quiet:
        print(text, file=out.stdout)
    return EXIT_OK
