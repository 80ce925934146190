"""The unmatched report (CSV and JSON, an alias-map seed) and the run summary."""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from attrs import frozen

from cisync_lib._atomic import PRIVATE, write_atomic
from cisync_lib._records import SnUser

from ._aliasmap import ALIAS_COLUMNS, REPORT_COLUMNS
from ._codes import Status
from ._outcome import StrategyTrace
from ._result import MatchResult

__all__ = ["REPORT_FIELDNAMES", "CorrelationReport", "ReportSummary", "write_report_csv"]

#: the unmatched report's columns, in order; the last ones are the blank alias-map columns.
REPORT_FIELDNAMES = (*REPORT_COLUMNS, *(c for c in ALIAS_COLUMNS if c != "source_name"))

# spreadsheet programs run a cell starting with these as a formula (CSV injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@frozen(kw_only=True)
class ReportSummary:
    """Counts of one run.

    Attributes:
        total: distinct identifiers.
        by_status: results per status value.
        by_reason: results per reason code value.
        by_strategy: matches per strategy (shows reliance on weaker rules).
        match_rate: matched / (total - skipped), or 0.0 when nothing was eligible.
    """

    total: int
    by_status: Mapping[str, int]
    by_reason: Mapping[str, int]
    by_strategy: Mapping[str, int]
    match_rate: float

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "total": self.total,
            "by_status": dict(self.by_status),
            "by_reason": dict(self.by_reason),
            "by_strategy": dict(self.by_strategy),
            "match_rate": round(self.match_rate, 4),
        }

    def __str__(self) -> str:
        parts = ", ".join(f"{k} {v}" for k, v in sorted(self.by_status.items()))
        return f"{self.total} identifiers ({parts}); match rate {self.match_rate:.1%}"


def _candidate(user: SnUser) -> str:
    active = "true" if user.active else "false"
    return f"{user.sys_id}|{user.user_name}|{user.email}|{active}|{user.sys_class_name}"


def strategies_tried(trace: Sequence[StrategyTrace]) -> str:
    """The compact trace, e.g. ``alias_map:n/a;email:0;upn_user_name:2(ambiguous)``."""
    parts = []
    for line in trace:
        if line.outcome in ("n/a", "lookup_error", "unsafe", "ignored", "ignore"):
            parts.append(f"{line.strategy}:{line.outcome}")
        elif line.outcome in ("none", "match"):
            parts.append(f"{line.strategy}:{line.candidates}")
        else:
            parts.append(f"{line.strategy}:{line.candidates}({line.outcome})")
    return ";".join(parts)


class CorrelationReport:
    """Rows for the identifiers that were not matched, plus a summary of the whole run.

    Args:
        results: every result of a run.
        include_matched: also list matched identifiers (e.g. for an audit).
    """

    def __init__(self, results: Iterable[MatchResult], *, include_matched: bool = False) -> None:
        self.results = tuple(results)
        self.include_matched = include_matched

    @classmethod
    def from_results(
        cls, results: Iterable[MatchResult], *, include_matched: bool = False
    ) -> CorrelationReport:
        """Build a report from a run's results."""
        return cls(results, include_matched=include_matched)

    def rows(self) -> list[dict[str, Any]]:
        """One row per distinct normalised identifier, alias-map columns blank."""
        out = []
        for r in self.results:
            if r.status is Status.MATCHED and not self.include_matched:
                continue
            suggestion = ""
            if r.suggestion is not None:
                by = r.evidence[0].strategy if r.evidence else "?"
                suggestion = f"unverified: {_candidate(r.suggestion)} (by {by})"
            row: dict[str, Any] = {
                "normalized": r.parsed.normalized,
                "raw_examples": list(r.raw_examples or (r.input.raw,)),
                "occurrences": r.occurrences,
                "kind": r.parsed.kind.value,
                "status": r.status.value,
                "reason_code": r.reason.value,
                "message": r.message,
                "strategies_tried": strategies_tried(r.trace),
                "candidates": [_candidate(u) for u in r.candidates],
                "suggestion": suggestion,
                "app": r.context.get("app", ""),
                "stream": r.context.get("stream", ""),
                "first_seen": r.context.get("first_seen", ""),
                "last_seen": r.context.get("last_seen", ""),
            }
            row.update((c, "") for c in REPORT_FIELDNAMES if c not in row)
            out.append(row)
        return out

    def summary(self) -> ReportSummary:
        """Counts per status, reason and matching strategy, and the match rate."""
        by_status = Counter(r.status.value for r in self.results)
        by_reason = Counter(r.reason.value for r in self.results)
        by_strategy = Counter(r.strategy or "?" for r in self.results if r.status is Status.MATCHED)
        eligible = len(self.results) - by_status.get(Status.SKIPPED.value, 0)
        matched = by_status.get(Status.MATCHED.value, 0)
        return ReportSummary(
            total=len(self.results),
            by_status=dict(sorted(by_status.items())),
            by_reason=dict(sorted(by_reason.items())),
            by_strategy=dict(sorted(by_strategy.items())),
            match_rate=matched / eligible if eligible else 0.0,
        )

    def write_csv(self, path: str | os.PathLike[str]) -> None:
        """Write the rows as UTF-8 CSV; fill in the last columns and load it as an alias map.

        Cells a spreadsheet would run as a formula get a leading ``'``, which the
        alias-map loader removes again.
        """
        write_report_csv(self.rows(), path)

    def write_json(self, path: str | os.PathLike[str]) -> None:
        """Write ``{"summary": ..., "rows": [...]}`` as UTF-8 JSON."""
        data = {"summary": self.summary().as_dict(), "rows": self.rows()}
        write_atomic(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n", mode=PRIVATE)


def write_report_csv(rows: Iterable[Mapping[str, object]], path: str | os.PathLike[str]) -> None:
    """Write unmatched-report rows as UTF-8 CSV (the columns of the unmatched report).

    The columns are those of :meth:`CorrelationReport.write_csv`: the report's own
    followed by the alias-map columns, so the file can be filled in and loaded with
    :meth:`AliasMap.load`. The keys of ``rows`` are column names.

    Missing columns are left blank. Cells a spreadsheet would run as a formula
    get a leading ``'``, which the alias-map loader removes again. The file is
    replaced atomically.
    """
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=REPORT_FIELDNAMES, restval="")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    write_atomic(path, buffer.getvalue(), mode=PRIVATE)


def _cell(value: object) -> str:
    text = "; ".join(value) if isinstance(value, list) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
