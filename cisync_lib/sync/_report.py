"""The report of one sync job: what was planned or written, who went unmatched and why, how long.

A :class:`SyncReport` is plain data: it renders as text (:meth:`summary`),
as rows for a DataFrame (:meth:`rows`), as JSON (:meth:`to_json`) and as HTML
in a notebook; a saved report loads back with :meth:`load`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import cattrs
from attrs import field, frozen
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from cisync_lib._atomic import PRIVATE, write_atomic
from cisync_lib.errors import CisyncError, ConfigError, GuardRefusedError

from ._parts import GuardDecision, UnmatchedUser
from ._render import render_html, render_summary
from ._review import render_review
from ._unmatched import write_unmatched_csv

__all__ = ["REPORT_VERSION", "GuardDecision", "SyncReport", "UnmatchedUser"]

#: Version of the saved report format; :meth:`SyncReport.load` refuses others.
REPORT_VERSION = 1

Mode = Literal["plan", "dry_run", "apply"]
Outcome = Literal["planned", "applied", "partial", "refused", "failed", "interrupted"]
RowTable = Literal["actions", "unmatched", "counts", "timings", "requests", "guard"]


def _frozen_map(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


@frozen(kw_only=True)
class SyncReport:
    """What one sync job planned or did, and why.

    Attributes:
        connection: the source connection.
        destination: the destination's name.
        environment: ``test`` or ``prod``.
        mode: ``plan`` (nothing written), ``dry_run`` or ``apply``.
        outcome: ``planned``, ``applied``, ``partial`` (some users could not be
            looked up: everything else was planned, or written in ``apply`` mode;
            see ``partial``), ``refused`` (by the guard; nothing written),
            ``failed`` or ``interrupted`` (stopped by the operator; ``written``
            says what reached the instance).
        started_at: when the job started.
        finished_at: when it finished.
        relationships: the relationships the job selected.
        settings: the effective settings, ``name -> {"value", "source"}``.
        source: facts about the read: ``kind``, ``period``, ``apps``, ``identifiers``,
            and for Graph ``http``: requests, batches, the concurrency the adaptive
            limit reached and the throttling met (``GraphSource.read_stats``).
        counts: planned changes per action (``create_app``, ``add_link``, ...).
        written: writes made per action (empty unless applied).
        matching: the correlation summary (``total``, ``by_status``,
            ``by_reason``, ``match_rate``).
        unmatched: every identifier not linked, with its reason.
        guard: the guard's verdicts.
        timings: seconds per phase (``read``, ``correlate``, ``read_cmdb``,
            ``plan``, ``apply``).
        requests: HTTP requests per service (``defender``, ``servicenow``), and
            ``servicenow_throttled``: ServiceNow answers 429/503 (retried), when any.
        warnings: anything to look at.
        actions: one row per planned change (``action``, ``app_id``, ``name``,
            ``ci``, ``user``, ``detail``).
        plan_fingerprint: the fingerprint of the CMDB state the plan came from.
        error: what failed, for a ``failed`` outcome.
        partial: for a ``partial`` outcome, what was not evaluated: ``summary``
            (one line), ``links_not_evaluated`` ((app, user) pairs whose user is
            unknown), ``existing_links_kept``, ``apps``, ``identifiers``,
            ``sys_user_lookups``, ``sys_user_lookups_failed``,
            ``sys_user_lookups_short``, ``sys_user_rows_hidden``,
            ``sys_user_values_hidden``, ``statuses`` and ``tries``; empty otherwise.
        plan: the plan itself (not saved with the report; see ``cisync plan --out``).
    """

    connection: str
    destination: str
    environment: str
    mode: Mode
    outcome: Outcome
    started_at: datetime
    finished_at: datetime
    relationships: tuple[str, ...] = ()
    settings: Mapping[str, Mapping[str, Any]] = field(factory=dict, converter=_frozen_map)
    source: Mapping[str, Any] = field(factory=dict, converter=_frozen_map)
    counts: Mapping[str, int] = field(factory=dict, converter=_frozen_map)
    written: Mapping[str, int] = field(factory=dict, converter=_frozen_map)
    matching: Mapping[str, Any] = field(factory=dict, converter=_frozen_map)
    unmatched: tuple[UnmatchedUser, ...] = ()
    guard: tuple[GuardDecision, ...] = ()
    timings: Mapping[str, float] = field(factory=dict, converter=_frozen_map)
    requests: Mapping[str, int] = field(factory=dict, converter=_frozen_map)
    warnings: tuple[str, ...] = ()
    actions: tuple[Mapping[str, str], ...] = ()
    plan_fingerprint: str = ""
    error: str = ""
    partial: Mapping[str, Any] = field(factory=dict, converter=_frozen_map)
    plan: Any = field(default=None, eq=False, repr=False)

    @property
    def writes(self) -> int:
        """How many records were created, changed or removed (0 unless applied)."""
        return sum(self.written.values())

    @property
    def changes(self) -> int:
        """How many changes the plan holds (unchanged items and pending removals not counted)."""
        return sum(v for k, v in self.counts.items() if not k.startswith(("unchanged", "pending")))

    @property
    def unmatched_by_reason(self) -> dict[str, int]:
        """Unmatched identifiers per reason code, most frequent first."""
        counts: dict[str, int] = {}
        for user in self.unmatched:
            counts[user.reason] = counts.get(user.reason, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    @property
    def ok(self) -> bool:
        """Whether the job did all that was asked (planned, or applied); not partial or worse."""
        return self.outcome in ("planned", "applied")

    def raise_for_outcome(self) -> SyncReport:
        """Raise unless the run planned or applied everything; return the report otherwise.

        Raises:
            GuardRefusedError: the outcome is ``refused`` (nothing was written).
            CisyncError: the outcome is ``failed`` or ``interrupted``, or ``partial``
                (the message is the summary of what was not evaluated).
        """
        if self.outcome == "refused":
            raise GuardRefusedError(message=self.error or "refused by the blast-radius guard")
        if self.outcome in ("failed", "interrupted"):
            raise CisyncError(message=self.error or f"the sync job {self.outcome}")
        if self.outcome == "partial":
            raise CisyncError(message=str(self.partial.get("summary", "the run was partial")))
        return self

    def summary(self) -> str:
        """A few lines for a terminal: counts, unmatched users by reason, guard, timings."""
        return render_summary(self)

    def review(self, *, limit: int | None = 20) -> str:
        """The planned changes for a person: names grouped by action, with totals.

        Args:
            limit: at most this many lines per group (then a count); ``None``: all.
        """
        return render_review(self, limit=limit)

    def rows(self, table: RowTable = "actions") -> list[dict[str, Any]]:
        """Rows of plain values, ready for ``pandas.DataFrame(report.rows())``.

        Args:
            table: ``actions`` (one per planned change), ``unmatched`` (one per
                identifier; ``apps`` and ``raw_examples`` are lists, ``skipped`` says
                whether the identifier was skipped, e.g. anonymised or a local logon,
                rather than left unmatched), ``counts``, ``timings``, ``requests`` or ``guard``.

        Raises:
            ConfigError: an unknown table name.
        """
        if table == "actions":
            return [dict(row) for row in self.actions]
        if table == "unmatched":
            return [_unmatched_row(u) for u in self.unmatched]
        if table == "counts":
            return [
                {"action": k, "planned": v, "written": self.written.get(k, 0)}
                for k, v in self.counts.items()
            ]
        if table == "timings":
            return [{"phase": k, "seconds": v} for k, v in self.timings.items()]
        if table == "requests":
            return [{"service": k, "requests": v} for k, v in self.requests.items()]
        if table == "guard":
            return [{**_CONVERTER.unstructure(g), "percent": g.percent} for g in self.guard]
        raise ConfigError(
            file="SyncReport.rows()",  # not a config file: name the call that was given it
            key="table",
            problem=f"unknown table {table!r}",
            allowed="actions, unmatched, counts, timings, requests, guard",
        )

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready plain values (without ``plan``)."""
        data: dict[str, Any] = _CONVERTER.unstructure(self)
        return {"version": REPORT_VERSION, **data}

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<report>") -> SyncReport:
        """Build a report from :meth:`to_dict` output.

        Raises:
            ConfigError: not a report of this version, or malformed (naming the JSON path).
        """
        if not isinstance(data, Mapping) or data.get("version") != REPORT_VERSION:
            found = data.get("version") if isinstance(data, Mapping) else type(data).__name__
            raise ConfigError(
                file=source,
                key="version",
                problem=f"not a cisync sync report of version {REPORT_VERSION} (found {found!r})",
            )
        body = {k: v for k, v in data.items() if k != "version"}
        try:
            return _CONVERTER.structure(body, cls)
        except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
            details = (
                "; ".join(cattrs.transform_error(exc))
                if isinstance(exc, cattrs.BaseValidationError)
                else str(exc)
            )
            raise ConfigError(file=source, problem=f"malformed report: {details}") from exc

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the report as JSON (UTF-8); returns the path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, self.to_json() + "\n", mode=PRIVATE)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SyncReport:
        """Load a report saved with :meth:`save` (or ``cisync ... --report``).

        A state folder's ``reports/last.json`` (a pointer) loads the report it names.

        Raises:
            ConfigError: the file is missing, not JSON, or not a report.
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(file=str(path), problem=f"cannot read: {exc.strerror}") from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(file=str(path), problem=f"not JSON: {exc}") from exc
        if isinstance(data, dict) and isinstance(data.get("latest"), str):
            # reports/last.json: a pointer to the latest report, with its summary
            return cls.load(Path(path).parent / Path(data["latest"]).name)
        return cls.from_dict(data, source=str(path))

    def write_unmatched_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the unmatched users as an alias-map seed (the unmatched report's columns).

        Fill in ``action``, ``target_field`` and ``target_value`` of the rows you
        decide, and name the file as ``correlation.alias_map`` in the config.
        """
        return write_unmatched_csv(self.unmatched, path)

    def _repr_html_(self) -> str:
        return render_html(self)


def _unmatched_row(user: UnmatchedUser) -> dict[str, Any]:
    row: dict[str, Any] = _CONVERTER.unstructure(user)
    # lists stay lists (a DataFrame can explode or filter them); names with commas stay whole
    row["apps"] = list(user.apps)
    row["raw_examples"] = list(user.raw_examples)
    # skipped identifiers (anonymised names, local logons, service accounts) are not people
    # to map; a separate column lets a notebook filter them out of the to-do list
    row["skipped"] = user.status == "SKIPPED"
    return row


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_unstructure_hook(datetime, lambda d: d.isoformat())
    conv.register_structure_hook(datetime, lambda v, _: datetime.fromisoformat(str(v)))
    # the plan travels in its own file (cisync plan --out), never inside the report
    omit = override(omit=True)
    conv.register_unstructure_hook(
        SyncReport, make_dict_unstructure_fn(SyncReport, conv, plan=omit)
    )
    conv.register_structure_hook(SyncReport, make_dict_structure_fn(SyncReport, conv, plan=omit))
    return conv


_CONVERTER = _make_converter()
