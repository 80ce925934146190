"""The plan as a person reviews it: names, not sys_ids, grouped by action, with totals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._report import SyncReport

__all__ = ["REVIEW_GROUPS", "render_review"]

#: action key -> (heading, sign), in the order a reviewer reads them
REVIEW_GROUPS: Mapping[str, tuple[str, str]] = {
    "create_vendor": ("vendors to create", "+"),
    "create_app": ("apps to create", "+"),
    "update_app": ("apps to update", "~"),
    "retire_app": ("apps to retire", "-"),
    "add_link": ("user links to add", "+"),
    "remove_link": ("user links to remove", "-"),
    "pending_removal": ("removals waiting for their grace period (not written now)", "…"),
}


def _person(row: Mapping[str, str]) -> str:
    name, email = row.get("user_name", ""), row.get("user_email", "")
    if name and email:
        return f"{name} <{email}>"
    return name or email or f"sys_user {row.get('user', '')}"


def _app(row: Mapping[str, str]) -> str:
    name = row.get("name", "")
    if name:
        return name
    return f"app {row['app_id']}" if row.get("app_id") else f"CI {row.get('ci', '')}"


def _line(action: str, row: Mapping[str, str]) -> str:
    detail = row.get("detail", "")
    if action in ("add_link", "remove_link"):
        text = f"{_app(row)}  <-  {_person(row)}"
        return f"{text}  ({detail})" if detail else text
    if action == "pending_removal":
        what = f"{_app(row)}  <-  {_person(row)}" if row.get("user") else _app(row)
        return f"{what}: {detail}"
    text = _app(row)
    if row.get("app_id") and action != "create_vendor":
        text += f"  [Defender app {row['app_id']}]"
    return f"{text}: {detail}" if detail else text


def render_review(report: SyncReport, *, limit: int | None = 20) -> str:
    """The planned changes grouped by action, with names, counts and totals.

    Args:
        report: a report with its action rows (a plan's or a saved one).
        limit: at most this many lines per group, then a count of the rest;
            ``None`` lists everything.
    """
    rows: dict[str, list[Mapping[str, str]]] = {}
    for row in report.actions:
        rows.setdefault(row.get("action", ""), []).append(row)
    head = f"{report.connection} -> {report.destination} ({report.environment.upper()})"
    lines = [f"Plan for {head}: {report.changes} change(s)"]
    hidden = 0
    for action, (heading, sign) in REVIEW_GROUPS.items():
        group: Sequence[Mapping[str, str]] = rows.get(action, ())
        count = report.counts.get(action, len(group))
        if not count:
            continue
        lines.append(f"  {heading} ({count}):")
        shown = group if limit is None else group[:limit]
        lines += [f"    {sign} {_line(action, row)}" for row in shown]
        rest = count - len(shown)
        if rest > 0:
            hidden += rest
            lines.append(f"    … and {rest} more")
    kept = [
        f"{report.counts[k]} {what}"
        for k, what in (("unchanged_app", "apps"), ("unchanged_link", "user links"))
        if report.counts.get(k)
    ]
    if kept:
        lines.append(f"  unchanged: {', '.join(kept)}")
    if hidden:
        lines.append(f"  ({hidden} more not listed; --all lists every change)")
    return "\n".join(lines)
