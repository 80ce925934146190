"""The report of one sync job: what was planned or written, who went unmatched and why, how long.

A :class:`SyncReport` is plain data: it renders as text (:meth:`~SyncReport.summary`),
as a review for a person (:meth:`~SyncReport.review`), as rows for a DataFrame
(:meth:`~SyncReport.rows`), as JSON (:meth:`~SyncReport.to_json`), as HTML in a
notebook and as an alias-map seed (:meth:`~SyncReport.write_unmatched_csv`); a saved
report loads back with :meth:`~SyncReport.load`. The renderings live beside the model
because they are its methods: one concept, one module.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import attrs
import cattrs
from attrs import field, frozen
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from cisync_lib._documents import DocumentKind, register_timestamps
from cisync_lib._records import SnUser
from cisync_lib.cmdb import DesiredState, GuardReport, Plan
from cisync_lib.correlation import write_report_csv
from cisync_lib.errors import CisyncError, ConfigError, GuardRefusedError

__all__ = [
    "ACTION_LABELS",
    "REPORT_VERSION",
    "GuardDecision",
    "Mode",
    "Outcome",
    "PlanCounts",
    "SyncReport",
    "UnmatchedUser",
    "guard_decisions",
    "plan_rows",
]

#: Version of the saved report format; :meth:`SyncReport.load` refuses others.
REPORT_VERSION = 1
#: saved reports: owner-only (they name people); reports saved before the format marker load
_REPORT_DOCUMENT = DocumentKind(
    name="report", format="cisync-sync-report", version=REPORT_VERSION, marker_optional=True
)

#: How a job ran (a :class:`SyncReport`'s ``mode``): ``plan`` (nothing written), ``dry_run``
#: or ``apply``.
Mode = Literal["plan", "dry_run", "apply"]
#: How a job ended (a :class:`SyncReport`'s ``outcome``, which explains each).
Outcome = Literal["planned", "applied", "partial", "refused", "failed", "interrupted"]
RowTable = Literal["actions", "unmatched", "counts", "timings", "requests", "guard"]


# --- the parts of a report ----------------------------------------------------------


@frozen(kw_only=True)
class UnmatchedUser:
    """One distinct user identifier that was not linked to a ``sys_user``.

    Attributes:
        identifier: the normalised identifier.
        status: ``UNMATCHED``, ``AMBIGUOUS``, ``SKIPPED`` or ``ERROR``.
        reason: the reason code (``LOCAL_ACCOUNT``, ``NO_CANDIDATE``, ...).
        message: the explanation, for a person.
        apps: the names of the apps it was seen using.
        occurrences: how many raw identifiers normalised to it.
        raw_examples: some of those raw identifiers.
        suggestion: an unverified candidate, if a weaker rule found one.
    """

    identifier: str
    status: str
    reason: str
    message: str = ""
    apps: tuple[str, ...] = ()
    occurrences: int = 1
    raw_examples: tuple[str, ...] = ()
    suggestion: str = ""


@frozen(kw_only=True)
class GuardDecision:
    """The blast-radius guard's verdict on one kind of removal.

    Attributes:
        what: ``retire apps`` or ``remove user links``.
        count: how many the plan removes.
        managed: how many the library manages.
        limit_percent: the limit (a setting per environment).
        verdict: ``within`` the limit, ``refused``, or ``forced`` past it.
    """

    what: str
    count: int
    managed: int
    limit_percent: float
    verdict: Literal["within", "refused", "forced"]

    @property
    def percent(self) -> float:
        """The share of managed items removed, in percent."""
        return 100.0 * self.count / self.managed if self.managed else 0.0


@frozen(kw_only=True)
class PlanCounts:
    """Changes per action, planned or written.

    ``SyncReport.counts`` holds a plan's; ``SyncReport.written`` those written (its
    ``unchanged_*`` and ``pending_removal`` counts are 0). Saved reports and ``--json``
    keep them as an object with one key per attribute.

    Attributes:
        create_app: apps (CIs) created.
        update_app: apps updated.
        retire_app: apps retired.
        unchanged_app: apps that need nothing.
        add_link: user links added.
        remove_link: user links removed.
        unchanged_link: user links already right.
        create_vendor: vendor companies created.
        pending_removal: removals waiting for their grace period (not written now).
    """

    create_app: int = 0
    update_app: int = 0
    retire_app: int = 0
    unchanged_app: int = 0
    add_link: int = 0
    remove_link: int = 0
    unchanged_link: int = 0
    create_vendor: int = 0
    pending_removal: int = 0

    @classmethod
    def from_plan(cls, plan: Plan) -> PlanCounts:
        """The changes ``plan`` holds, per action."""
        return cls(
            create_app=len(plan.creates),
            update_app=len(plan.updates),
            retire_app=len(plan.retires),
            unchanged_app=len(plan.unchanged_apps),
            add_link=len(plan.add_links),
            remove_link=len(plan.remove_links),
            unchanged_link=sum(plan.unchanged_links.values()),
            create_vendor=len(plan.vendors),
            pending_removal=len(plan.pending),
        )

    @property
    def changes(self) -> int:
        """Records created, changed or removed (unchanged items and pending removals are not)."""
        return (
            self.create_app
            + self.update_app
            + self.retire_app
            + self.add_link
            + self.remove_link
            + self.create_vendor
        )

    def as_dict(self) -> dict[str, int]:
        """``action -> count`` for every action, in display order (``create_app``, ...)."""
        return attrs.asdict(self)

    def describe(self) -> str:
        """The changes in one line, e.g. ``3 apps created, 40 links created``.

        Only the actions that write and have a count appear (vendors first, then apps,
        then links); ``no changes`` when there are none.
        """
        counts = self.as_dict()
        parts = [f"{counts[k]} {ACTION_LABELS[k]}" for k in _CHANGE_ORDER if counts[k]]
        return ", ".join(parts) or "no changes"


def _counts(value: PlanCounts | Mapping[str, int]) -> PlanCounts:
    """A report's counts from a :class:`PlanCounts` or ``action -> count`` (absent: 0)."""
    return value if isinstance(value, PlanCounts) else PlanCounts(**value)


# --- the report --------------------------------------------------------------------


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
        counts: planned changes per action (:class:`PlanCounts`).
        written: writes made per action (all 0 unless applied).
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
        plan: the plan itself (not saved with the report; see ``cisync plan --out``);
            ``None`` for a report loaded from a file or of a run that failed before planning.
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
    counts: PlanCounts = field(factory=PlanCounts, converter=_counts)
    written: PlanCounts = field(factory=PlanCounts, converter=_counts)
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
    plan: Plan | None = field(default=None, eq=False, repr=False)

    @property
    def writes(self) -> int:
        """How many records were created, changed or removed (0 unless applied)."""
        return self.written.changes

    @property
    def changes(self) -> int:
        """How many changes the plan holds (unchanged items and pending removals not counted)."""
        return self.counts.changes

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
        return _render_summary(self)

    def review(self, *, limit: int | None = 20) -> str:
        """The planned changes for a person: names grouped by action, with totals.

        Args:
            limit: at most this many lines per group (then a count); ``None``: all.
        """
        return _render_review(self, limit=limit)

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
            written = self.written.as_dict()
            return [
                {"action": k, "planned": v, "written": written[k]}
                for k, v in self.counts.as_dict().items()
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
        return {**_REPORT_DOCUMENT.header(), **data}

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_plan(
        cls,
        plan: Plan,
        *,
        connection: str = "",
        destination: str = "",
        environment: str = "",
    ) -> SyncReport:
        """The report of a plan alone, for reviewing it: mode ``plan``, outcome ``planned``.

        Counts, one row per change, the fingerprint and the plan's warnings; the rows
        carry the names the plan itself holds (a job's own report also names the users
        and the CIs it read). Both timestamps are the plan's ``created_at``.

        Args:
            plan: the plan (e.g. read back with :func:`~cisync_lib.cmdb.plan_from_json`).
            connection: the source connection it was made for, if known.
            destination: the destination's name, if known.
            environment: ``test`` or ``prod``, if known.
        """
        return cls(
            connection=connection,
            destination=destination,
            environment=environment,
            mode="plan",
            outcome="planned",
            started_at=plan.created_at,
            finished_at=plan.created_at,
            counts=PlanCounts.from_plan(plan),
            actions=plan_rows(plan, DesiredState()),
            plan_fingerprint=plan.fingerprint,
            warnings=plan.warnings,
            plan=plan,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<report>") -> SyncReport:
        """Build a report from :meth:`to_dict` output.

        Raises:
            DocumentError: not a report of this version, or malformed (naming the JSON path).
        """
        _REPORT_DOCUMENT.check(data, source=source)
        body = _REPORT_DOCUMENT.body(data)
        return _REPORT_DOCUMENT.structure(_CONVERTER, body, cls, source=source)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the report as JSON (UTF-8); returns the path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        _REPORT_DOCUMENT.write(target, self.to_dict(), indent=2)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SyncReport:
        """Load a report saved with :meth:`save` (or ``cisync ... --report``).

        A state folder's ``reports/last.json`` (a pointer) loads the report it names.

        Raises:
            DocumentError: the file is missing, not JSON, or not a report.
        """
        data = _REPORT_DOCUMENT.read(path)
        if isinstance(data, dict) and isinstance(data.get("latest"), str):
            # reports/last.json: a pointer to the latest report, with its summary
            return cls.load(Path(path).parent / Path(data["latest"]).name)
        return cls.from_dict(data, source=str(path))

    def write_unmatched_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the unmatched users as an alias-map seed (the unmatched report's columns).

        Fill in ``action``, ``target_field`` and ``target_value`` of the rows you
        decide, and name the file as ``correlation.alias_map`` in the config.
        """
        return _write_unmatched_csv(self.unmatched, path)

    def _repr_html_(self) -> str:
        return _render_html(self)


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
    conv = register_timestamps(cattrs.Converter(forbid_extra_keys=True))
    # the plan travels in its own file (cisync plan --out), never inside the report
    omit = override(omit=True)
    conv.register_unstructure_hook(
        SyncReport, make_dict_unstructure_fn(SyncReport, conv, plan=omit)
    )
    conv.register_structure_hook(SyncReport, make_dict_structure_fn(SyncReport, conv, plan=omit))
    return conv


_CONVERTER = _make_converter()


# --- from a plan -------------------------------------------------------------------


def plan_rows(
    plan: Plan,
    desired: DesiredState,
    *,
    people: Mapping[str, SnUser] | None = None,
    ci_names: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], ...]:
    """One plain row per planned change (for DataFrames, CSV and the review).

    Rows carry names beside sys_ids: the app's name (from the desired state, else
    ``ci_names``), and for user links the user's ``user_name`` and ``user_email``
    when ``people`` knows them (empty otherwise).
    """
    people = people or {}
    ci_names = ci_names or {}
    created = {c.sys_id: c.name for c in plan.creates}

    def name(app_id: str, ci: str = "") -> str:
        app = desired.apps.get(app_id)
        if app is not None:
            return app.name
        return ci_names.get(ci, "") or created.get(ci, "")

    def row(
        action: str, app_id: str, app_name: str, ci: str, user: str, detail: str
    ) -> dict[str, str]:
        person = people.get(user) if user else None
        return {
            "action": action,
            "app_id": app_id,
            "name": app_name,
            "ci": ci,
            "user": user,
            "user_name": (person.name or person.user_name) if person is not None else "",
            "user_email": person.email if person is not None else "",
            "detail": detail,
        }

    rows = [row("create_vendor", "", v.name, v.sys_id, "", "") for v in plan.vendors]
    rows += [row("create_app", c.app_id, c.name, c.sys_id, "", "") for c in plan.creates]
    for u in plan.updates:
        detail = ", ".join(c.field for c in u.changes)
        tag = " (adopted by name)" if u.adopted else " (revived)" if u.revived else ""
        rows.append(row("update_app", u.app_id, u.name, u.sys_id, "", detail + tag))
    rows += [row("retire_app", r.app_id, r.name, r.sys_id, "", r.reason) for r in plan.retires]
    rows += [
        row("add_link", a.app_id, name(a.app_id, a.ci), a.ci, a.user, "") for a in plan.add_links
    ]
    rows += [
        row("remove_link", r.app_id, name(r.app_id, r.ci), r.ci, r.user, r.reason)
        for r in plan.remove_links
    ]
    rows += [
        row("pending_removal", p.app_id, name(p.app_id), "", p.key if p.kind == "link" else "",
            f"{p.kind} missing for {p.missed_runs} run(s) since {p.first_missed_at:%Y-%m-%d}")
        for p in plan.pending
    ]  # fmt: skip
    return tuple(rows)


def guard_decisions(guard: GuardReport, *, force: bool) -> tuple[GuardDecision, ...]:
    """The guard's verdicts as report entries."""

    def verdict(over: bool) -> str:
        return "within" if not over else "forced" if force else "refused"

    return (
        GuardDecision(
            what="retire apps",
            count=guard.retire_count,
            managed=guard.managed_apps,
            limit_percent=guard.max_retire_percent,
            verdict=verdict(guard.refuses_retire),  # type: ignore[arg-type]
        ),
        GuardDecision(
            what="remove user links",
            count=guard.unlink_count,
            managed=guard.managed_links,
            limit_percent=guard.max_unlink_percent,
            verdict=verdict(guard.refuses_unlink),  # type: ignore[arg-type]
        ),
    )


# --- as text and HTML ---------------------------------------------------------------

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
#: The actions that write, in the order a one-line total lists them (:meth:`PlanCounts.describe`).
_CHANGE_ORDER = ("create_vendor", "create_app", "update_app", "retire_app", "add_link",
                 "remove_link")  # fmt: skip
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


#: the actions that write nothing: a report's ``written`` never counts them
_KEPT = ("unchanged_app", "unchanged_link", "pending_removal")


def _planned_nothing(report: SyncReport) -> bool:
    """Whether the run failed before it had a plan (there is nothing to count)."""
    return (
        report.outcome == "failed"
        and not report.plan_fingerprint
        and not any(report.counts.as_dict().values())
    )


def _shown_counts(report: SyncReport) -> dict[str, int]:
    """The counts a rendering shows: the writes once written (and what was kept), else the plan."""
    planned = report.counts.as_dict()
    if not _wrote(report):
        return planned
    written = report.written.as_dict()
    return {k: planned[k] if k in _KEPT else written[k] for k in planned}


def _count_lines(report: SyncReport) -> list[str]:
    if _planned_nothing(report):
        return []  # failed before planning: there is nothing to count
    source = _shown_counts(report)
    kept = _KEPT
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
            meaning = _reason_help(reason)
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


def _render_summary(report: SyncReport) -> str:
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


def _render_html(report: SyncReport) -> str:
    """The report as an HTML fragment (a notebook's rich display)."""
    verb = _verb(report)
    counts = _shown_counts(report)
    parts = [
        f"<h4>{html.escape(_mode_line(report))}</h4>",
        f"<p>{html.escape(_source_line(report))}</p>",
    ]
    if not _planned_nothing(report):
        parts.append(
            _table(("change", verb), ((label, counts[k]) for k, label in ACTION_LABELS.items()))
        )
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


# --- as a review, for a person ------------------------------------------------------

#: action key -> (heading, sign), in the order a reviewer reads them
_REVIEW_GROUPS: Mapping[str, tuple[str, str]] = {
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


def _review_app(row: Mapping[str, str]) -> str:
    name = row.get("name", "")
    if name:
        return name
    return f"app {row['app_id']}" if row.get("app_id") else f"CI {row.get('ci', '')}"


def _review_line(action: str, row: Mapping[str, str]) -> str:
    detail = row.get("detail", "")
    if action in ("add_link", "remove_link"):
        text = f"{_review_app(row)}  <-  {_person(row)}"
        return f"{text}  ({detail})" if detail else text
    if action == "pending_removal":
        what = f"{_review_app(row)}  <-  {_person(row)}" if row.get("user") else _review_app(row)
        return f"{what}: {detail}"
    text = _review_app(row)
    if row.get("app_id") and action != "create_vendor":
        text += f"  [Defender app {row['app_id']}]"
    return f"{text}: {detail}" if detail else text


def _render_review(report: SyncReport, *, limit: int | None = 20) -> str:
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
    for action, (heading, sign) in _REVIEW_GROUPS.items():
        group: Sequence[Mapping[str, str]] = rows.get(action, ())
        count = getattr(report.counts, action) or len(group)
        if not count:
            continue
        lines.append(f"  {heading} ({count}):")
        shown = group if limit is None else group[:limit]
        lines += [f"    {sign} {_review_line(action, row)}" for row in shown]
        rest = count - len(shown)
        if rest > 0:
            hidden += rest
            lines.append(f"    … and {rest} more")
    kept = [
        f"{count} {what}"
        for count, what in (
            (report.counts.unchanged_app, "apps"),
            (report.counts.unchanged_link, "user links"),
        )
        if count
    ]
    if kept:
        lines.append(f"  unchanged: {', '.join(kept)}")
    if hidden:
        lines.append(f"  ({hidden} more not listed; --all lists every change)")
    return "\n".join(lines)


# --- unmatched users as an alias-map seed -------------------------------------------


def _write_unmatched_csv(users: Iterable[UnmatchedUser], path: str | os.PathLike[str]) -> Path:
    """Write one row per unmatched identifier with blank alias-map columns.

    Fill in ``action``, ``target_field`` and ``target_value`` and the file is
    an alias map (:meth:`cisync_lib.correlation.AliasMap.load`, or
    ``correlation.alias_map`` in the deployment config).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    rows = (
        {
            "normalized": user.identifier,
            "raw_examples": "; ".join(user.raw_examples),
            "occurrences": str(user.occurrences),
            "status": user.status,
            "reason_code": user.reason,
            "message": user.message,
            "suggestion": user.suggestion,
            "app": "; ".join(user.apps),
        }
        for user in users
    )
    write_report_csv(rows, target)
    return target


# --- what each reason code means ----------------------------------------------------

#: reason code -> (what it means, what to do about it)
_REASON_HELP: Mapping[str, tuple[str, str]] = {
    "EMPTY_INPUT": ("Defender reported an empty user name", "nothing to do: not a person"),
    "UNPARSEABLE": (
        "the identifier is not an email, UPN or DOMAIN\\user",
        "map it in the alias map if it is a person",
    ),
    "ANONYMIZED": (
        "the stream anonymises user names (a token, or AnonymousUser)",
        "turn off anonymisation for the stream in Defender, or accept it",
    ),
    "LOCAL_ACCOUNT": (
        "a logon local to one machine (user\\HOST), not a directory account",
        "nothing to do: no sys_user can be meant",
    ),
    "DOMAIN_NOT_ALLOWED": (
        "DOMAIN\\user in a NetBIOS domain the config does not name",
        "add it under correlation.options.netbios_domains with its upn_suffix",
    ),
    "NO_CANDIDATE": (
        "no sys_user has this email, UPN or user ID",
        "check the person is in sys_user, or map the identifier in the alias map",
    ),
    "ONLY_INACTIVE_MATCH": (
        "only an inactive sys_user matches (a leaver)",
        "reactivate the user, or set correlation.options.inactive_policy",
    ),
    "AMBIGUOUS_DUPLICATE": (
        "several sys_user rows share this email",
        "deduplicate sys_user, or pick one in the alias map",
    ),
    "KEY_CONFLICT": (
        "the email and the user ID point at different sys_user rows",
        "fix the rows in sys_user, or pick one in the alias map",
    ),
    "EXCLUDED_ONLY": (
        "only service or integration accounts match",
        "nothing to do unless the account is a person's",
    ),
    "BELOW_THRESHOLD": (
        "a likely match, below the confidence threshold (see the suggestion)",
        "confirm it in the alias map, or lower min_confidence",
    ),
    "IGNORED_BY_ALIAS": ("the alias map says to ignore it", "nothing to do: a decision"),
    "ALIAS_TARGET_NOT_FOUND": (
        "the alias map points at a user that does not exist",
        "fix the alias-map row's target",
    ),
    "ALIAS_TARGET_AMBIGUOUS": (
        "the alias map's target matches several users",
        "make the alias-map row's target unique (a sys_id)",
    ),
    "LOOKUP_ERROR": (
        "the sys_user lookup failed (not 'no such user')",
        "run again; see the warnings for the failure",
    ),
    "UNSAFE_QUERY_VALUE": (
        "the value cannot go into a ServiceNow query safely",
        "map it in the alias map",
    ),
}


def _reason_help(reason: str) -> str:
    """``meaning. Fix: ...`` for a reason code ("" for one without help)."""
    meaning, fix = _REASON_HELP.get(reason, ("", ""))
    return f"{meaning}. Fix: {fix}" if meaning else ""
