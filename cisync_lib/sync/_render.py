"""Text and HTML renderings of a :class:`~cisync_lib.sync.SyncReport`."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._reasons import reason_help

if TYPE_CHECKING:
    from ._report import SyncReport

__all__ = ["ACTION_LABELS", "render_html", "render_summary"]

#: How each action key reads in a sentence, in display order.
ACTION_LABELS: Mapping[str, str] = {
    "create_app": "apps created",
    "update_app": "apps updated",
    "retire_app": "apps retired",
    "unchanged_app": "apps unchanged",
    "add_link": "links created",
    "remove_link": "links removed",
    "unchanged_link": "links unchanged",
    "create_vendor": "vendors created",
    "pending_removal": "removals waiting for their grace period",
}
_PHASES = ("read", "correlate", "read_cmdb", "plan", "apply")
_EXAMPLES = 2


def _wrote(report: SyncReport) -> bool:
    if report.outcome in ("applied", "interrupted"):
        return True
    return report.outcome == "partial" and report.mode == "apply"


def _mode_line(report: SyncReport) -> str:
    head = f"{report.connection} -> {report.destination} ({report.environment.upper()})"
    if report.outcome == "applied":
        return f"{head}: applied, {report.writes} write(s)"
    if report.outcome == "partial":
        done = (
            f"{report.writes} write(s)"
            if report.mode == "apply"
            else f"{report.mode.replace('_', ' ')}, nothing written"
        )
        return f"{head}: PARTIAL, {done}; {report.partial.get('summary', '')}"
    if report.outcome == "refused":
        return f"{head}: REFUSED by the guard, nothing written"
    if report.outcome == "failed":
        return f"{head}: FAILED ({report.error})"
    if report.outcome == "interrupted":
        return f"{head}: INTERRUPTED, {report.writes} of {report.changes} change(s) written"
    return f"{head}: {report.mode.replace('_', ' ')}, nothing written"


def _verb(report: SyncReport) -> str:
    return "written" if _wrote(report) else "planned"


def _count_lines(report: SyncReport) -> list[str]:
    if report.outcome == "failed" and not report.counts:
        return []  # failed before planning: there is nothing to count
    source = {**report.counts, **report.written} if _wrote(report) else report.counts
    kept = ("unchanged_app", "unchanged_link", "pending_removal")
    changes = [
        f"{source[k]} {label}"
        for k, label in ACTION_LABELS.items()
        if source.get(k) and k not in kept
    ]
    lines = [f"Changes ({_verb(report)}): " + (", ".join(changes) or "none")]
    rest = [f"{source[k]} {ACTION_LABELS[k]}" for k in kept if source.get(k)]
    if rest:
        lines.append("Kept: " + ", ".join(rest))
    return lines


def _source_line(report: SyncReport) -> str:
    src = report.source
    if not src:
        applied = " (a saved plan was applied)" if report.outcome == "applied" else ""
        return f"Source: not read{applied}"
    text = f"Source: {src.get('kind', '?')}, {src.get('period', '?')}"
    text += f", {src.get('apps', 0)} apps read, {src.get('apps_in_scope', 0)} within the filters"
    if "identifiers" in src:
        text += f", {src['identifiers']} app-user pairs"
    http = src.get("http")
    if isinstance(http, Mapping) and "concurrency_peak" in http:
        text += (
            f"; Graph: up to {http['concurrency_peak']} of {http['concurrency_max']} in flight, "
            f"{http.get('throttled', 0)} throttled ({http.get('throttle_wait_s', 0)} s held)"
        )
    return text


def _unmatched_lines(report: SyncReport) -> list[str]:
    match = report.matching
    if not report.source:
        return []
    if not match:
        return ["Users: not linked (user synchronization off or not selected)"]
    total, rate = int(match.get("total", 0)), float(match.get("match_rate", 0.0))
    by_status: Mapping[str, int] = match.get("by_status", {}) or {}
    skipped = int(by_status.get("SKIPPED", 0))
    matched = int(by_status.get("MATCHED", 0))
    eligible = total - skipped
    lines = [
        f"Users: {total} distinct identifiers; match rate {rate:.1%} = {matched} matched of "
        f"the {eligible} that name a person ({skipped} skipped are not counted: anonymised "
        f"names, local logons and the like); {len(report.unmatched)} not linked"
    ]
    examples: dict[str, list[str]] = {}
    status_of: dict[str, str] = {}
    for user in report.unmatched:
        examples.setdefault(user.reason, []).append(
            user.raw_examples[0] if user.raw_examples else user.identifier
        )
        status_of.setdefault(user.reason, user.status)
    by_reason = report.unmatched_by_reason
    for title, wanted in (("Not matched", False), ("Skipped, not counted", True)):
        reasons = [r for r in by_reason if (status_of.get(r) == "SKIPPED") is wanted]
        if not reasons:
            continue
        lines.append(f"  {title}:")
        for reason in reasons:
            shown = ", ".join(repr(e) if not e.strip() else e for e in examples[reason][:_EXAMPLES])
            lines.append(f"    {reason:<24} {by_reason[reason]:>6}  e.g. {shown}")
            meaning = reason_help(reason)
            if meaning:
                lines.append(f"        {meaning}")
    return lines


def _guard_lines(report: SyncReport) -> list[str]:
    return [
        f"Guard: {g.what}: {g.count} of {g.managed} ({g.percent:.1f}%, limit "
        f"{g.limit_percent:g}%): {g.verdict}"
        for g in report.guard
    ]


def _timing_line(report: SyncReport) -> str:
    names = [p for p in _PHASES if p in report.timings] + [
        p for p in report.timings if p not in _PHASES
    ]
    parts = [f"{p} {report.timings[p]:.2f}s" for p in names]
    total = sum(report.timings.values())
    requests = ", ".join(f"{k} {v}" for k, v in report.requests.items())
    return f"Time: {', '.join(parts)} (total {total:.2f}s); requests: {requests or 'none'}"


def render_summary(report: SyncReport) -> str:
    """The report as a few lines of plain text."""
    lines = [_mode_line(report), _source_line(report), *_count_lines(report)]
    lines += _unmatched_lines(report)
    lines += _guard_lines(report)
    lines.append(_timing_line(report))
    lines += [f"Warning: {w}" for w in report.warnings]
    return "\n".join(lines)


def _table(headers: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: SyncReport) -> str:
    """The report as an HTML fragment (a notebook's rich display)."""
    verb = _verb(report)
    counts = report.written if _wrote(report) else report.counts
    parts = [
        f"<h4>{html.escape(_mode_line(report))}</h4>",
        f"<p>{html.escape(_source_line(report))}</p>",
        _table(
            ("change", verb),
            ((label, counts.get(k, 0)) for k, label in ACTION_LABELS.items() if k in report.counts),
        ),
    ]
    if report.unmatched:
        parts.append("<p>Users not linked, by reason</p>")
        parts.append(_table(("reason", "identifiers"), report.unmatched_by_reason.items()))
    if report.guard:
        parts.append(
            _table(
                ("guard", "count", "managed", "limit %", "verdict"),
                ((g.what, g.count, g.managed, g.limit_percent, g.verdict) for g in report.guard),
            )
        )
    parts.append(f"<p>{html.escape(_timing_line(report))}</p>")
    parts += [f"<p><b>Warning:</b> {html.escape(w)}</p>" for w in report.warnings]
    return '<div class="cisync-report">' + "".join(parts) + "</div>"
