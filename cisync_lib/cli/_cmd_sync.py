"""``cisync plan``, ``cisync apply`` and ``cisync sync``: run a job from the deployment config."""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from cisync_lib.cmdb import plan_from_json, plan_to_json
from cisync_lib.errors import (
    ApplyError,
    CisyncError,
    ConfigError,
    PlanDestinationError,
    PlanError,
    ReportNotSavedError,
    StalePlanError,
)
from cisync_lib.files import PRIVATE, write_atomic
from cisync_lib.sync import Mode, Outcome, PlanCounts, SyncReport, job_from_config, load_deployment

from ._cmd_check import checked
from ._cmd_show import PLAN_FORMAT, json_document, load_saved
from ._common import (
    EXIT_CODES_HELP,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_REFUSED,
    Output,
    command_line,
    config_options,
    describe_os_error,
    exit_code_for,
    output_options,
    run_command,
)
from ._interrupt import Interrupted, WriteSession
from ._reports import save_run_report

if TYPE_CHECKING:
    from cisync_lib.cmdb import Plan
    from cisync_lib.sync import SyncJob

__all__ = ["register"]

_PLAN_FORMAT = PLAN_FORMAT

logger = logging.getLogger(__name__)


def _parser(subparsers: Any, name: str, help_text: str, description: str) -> Any:
    return subparsers.add_parser(
        name,
        parents=[config_options(), output_options()],
        help=help_text,
        description=description,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def register(subparsers: Any) -> None:
    """Add ``plan``, ``apply`` and ``sync``."""
    plan = _parser(
        subparsers,
        "plan",
        "read Defender and the CMDB and show what a sync would change; writes nothing",
        "Read Defender, correlate users, read the CMDB and print the plan. Nothing is "
        "written. Save the plan with --out to apply exactly it later (cisync apply --plan).",
    )
    plan.add_argument("--out", type=Path, metavar="FILE", help="save the plan (JSON) to FILE")
    plan.add_argument(
        "--show",
        action="store_true",
        help="also list the planned changes by name, grouped by action (first --limit of each)",
    )
    plan.add_argument(
        "--all",
        action="store_true",
        help="with --show: list every change; with --json: include every row",
    )
    plan.add_argument(
        "--limit",
        type=int,
        default=20,
        metavar="N",
        help="with --show: changes listed per group (default 20)",
    )
    plan.set_defaults(handler=lambda a: run_command(a, _plan))

    apply = _parser(
        subparsers,
        "apply",
        "sync and WRITE to the destination (or apply a reviewed plan with --plan)",
        "Plan and apply in one go, or apply a plan saved by `cisync plan --out`. A saved "
        "plan is refused (exit 3) when the instance changed since it was made, or when it "
        "was made for another destination or environment.",
    )
    apply.add_argument("--plan", type=Path, metavar="FILE", help="apply this reviewed plan")
    apply.add_argument(
        "--force", action="store_true", help="apply although the blast-radius guard refuses"
    )
    _yes_option(apply)
    apply.set_defaults(handler=lambda a: run_command(a, _apply))

    sync = _parser(
        subparsers,
        "sync",
        "plan, and write only with --apply (a dry run otherwise)",
        "Run a sync job: a dry run that writes nothing, unless --apply is given.",
    )
    sync.add_argument("--apply", action="store_true", help="write the changes")
    sync.add_argument(
        "--force", action="store_true", help="apply although the blast-radius guard refuses"
    )
    _yes_option(sync)
    sync.set_defaults(handler=lambda a: run_command(a, _sync))
    for parser in (apply, sync):
        parser.add_argument(
            "--all",
            action="store_true",
            help="with --json: include every planned change and unmatched identifier",
        )
    for parser in (plan, apply, sync):
        parser.add_argument(
            "--report", type=Path, metavar="FILE", help="also save the report (JSON) to FILE"
        )


def _yes_option(parser: Any) -> None:
    parser.add_argument(
        "-y",
        "--yes",
        "--auto-approve",
        dest="yes",
        action="store_true",
        help="write without asking for approval (needed without a terminal: cron, CI)",
    )


def _job(args: argparse.Namespace, progress: Any, *, with_source: bool = True) -> SyncJob:
    config = load_deployment(args.config)
    args.keep_reports = config.keep_reports  # for _save_report
    return job_from_config(
        config,
        args.env,
        connection=args.connection,
        destination=args.destination,
        progress=progress,
        with_source=with_source,
    )


def _finish(args: argparse.Namespace, out: Output, job: SyncJob, report: SyncReport) -> int:
    try:
        saved = _save_report(job, report, args.report, getattr(args, "keep_reports", 30))
    except OSError as exc:
        # the run itself is over: say truthfully what it wrote before the report failed
        raise ReportNotSavedError(
            outcome=report.outcome, written=report.writes, problem=describe_os_error(exc)
        ) from exc
    # stdout carries the summary and counts; every row only with --all (the saved report
    # always has them), so a big run's JSON stays small enough for a log pipeline
    full = bool(getattr(args, "all", False))
    out.data({**json_document(report, full=full), "report_file": str(saved)})
    out.text(report.summary())
    out.text(f"Report saved: {saved}")
    if report.outcome == "refused":
        out.text(f"Refused: {_refusal(args, report)}")
        return EXIT_REFUSED
    if report.outcome == "partial":
        out.text(f"Partial: {report.partial.get('summary', '')}")
        return EXIT_PARTIAL
    if report.outcome == "planned":
        out.text(f"Nothing written. To write: {command_line(args, command='apply')}")
    return EXIT_OK


def _reports_folder(job: SyncJob) -> Path:
    return (job.state_dir or Path(".")) / "reports"


def _refusal(args: argparse.Namespace, report: SyncReport) -> str:
    """Why the guard refused, with the commands to review and to go ahead (not Python names)."""
    refused = [g for g in report.guard if g.verdict == "refused"]
    if not refused:
        return report.error
    what = "; ".join(
        f"{g.what}: {g.count} of {g.managed} managed ({g.percent:.1f}%) is over the "
        f"{g.limit_percent:g}% limit"
        for g in refused
    )
    review = command_line(args, "--show", "--all", command="plan", keep_plan=False)
    force = command_line(args, "--force", keep_plan=False)
    return (
        f"the blast-radius guard refused to {what}; nothing was written. Review the removals "
        f"with `{review}`; if they are intended, run `{force}` (or raise the limit in the "
        "settings: max_retire_percent / max_unlink_percent)"
    )


def _save_report(job: SyncJob, report: SyncReport, extra: Path | None, keep: int = 30) -> Path:
    # every run leaves its report in the state folder, so `cisync report` can show the last one
    folder = _reports_folder(job)
    folder.mkdir(parents=True, exist_ok=True)
    saved = save_run_report(folder, report, keep=keep)
    if extra is not None:
        report.save(extra)
    return saved


@contextmanager
def _reported(
    args: argparse.Namespace, job: SyncJob, mode: Mode, session: WriteSession | None = None
) -> Iterator[None]:
    """Save a report for a run that raises, so ``reports/last.json`` never shows an older run."""
    started = datetime.now(timezone.utc)

    def save(outcome: Outcome, error: str, written: dict[str, int] | None = None) -> None:
        plan = session.plan if session is not None else None
        report = SyncReport(
            connection=job.settings.connection,
            destination=job.destination.name,
            environment=job.destination.environment.value,
            mode=mode,
            outcome=outcome,
            started_at=started,
            finished_at=datetime.now(timezone.utc),
            relationships=tuple(r.value for r in job.relationships),
            counts=PlanCounts.from_plan(plan) if plan is not None else PlanCounts(),
            written=PlanCounts(**(written or {})),
            plan_fingerprint=plan.fingerprint if plan is not None else "",
            error=error,
        )
        try:
            _save_report(job, report, args.report, getattr(args, "keep_reports", 30))
        except OSError as failure:  # the original error is what the user must see
            logger.warning("the failed run's report was not saved: %s", failure)

    try:
        yield
    except StalePlanError as exc:
        again = command_line(args, "--out", str(args.plan or "plan.json"), command="plan")
        step = f"make a new plan and review it: {again}"
        fresh = attrs.evolve(exc, next_step=step, message="")
        save("refused", f"{type(exc).__name__}: {fresh}")
        raise fresh from exc
    except ApplyError as exc:
        if session is None or not session.writing:
            save("failed", f"{type(exc).__name__}: {exc}")
            raise
        # the writer may not know what reached the instance (an answer lost, then a
        # failure): read the plan's records back so the statement is true
        found = session.account()
        told = attrs.evolve(exc, message=f"{exc} Read back from the instance: {found.statement}.")
        save("failed", f"{type(exc).__name__}: {told}", found.written)
        raise told from exc
    except CisyncError as exc:
        outcome: Outcome = "refused" if exit_code_for(exc) == EXIT_REFUSED else "failed"
        save(outcome, f"{type(exc).__name__}: {exc}")
        raise
    except KeyboardInterrupt as exc:
        interrupted = session.account() if session is not None else Interrupted("nothing written")
        save("interrupted", f"interrupted: {interrupted.statement}", interrupted.written)
        raise interrupted from exc


def _writable_folders(args: argparse.Namespace, job: SyncJob) -> list[Path]:
    folders = [_reports_folder(job)]
    if job.state_dir is not None:
        folders.append(job.state_dir)
    for extra in (args.report, getattr(args, "out", None)):
        if extra is not None:
            folders.append(Path(extra).parent)
    return folders


def _check_writable(args: argparse.Namespace, job: SyncJob) -> None:
    """Refuse before reading or writing anything when a folder the run writes is unusable."""
    for folder in _writable_folders(args, job):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            # a real file, not a permission check: it also fails for root on a read-only
            # mount, under a path that is a file, or on a full disk
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as exc:
            raise ConfigError(
                file=str(folder),
                problem=f"this run cannot write here ({exc.strerror or exc}); nothing was "
                "read or written. Make the folder writable (sync.state_dir, --report, --out)",
            ) from exc


def _plan(args: argparse.Namespace, out: Output) -> int:
    with out.progress() as progress:
        job = _job(args, progress)
        _check_writable(args, job)
        with _reported(args, job, "plan"), checked(args, job):
            report = job.plan()
    if args.show:
        out.text(report.review(limit=None if args.all else max(args.limit, 0)))
        out.text("")
    if args.out is not None:
        _write_plan(args.out, job, report)
        again = command_line(args, "--plan", str(args.out), command="apply")
        out.text(f"Plan saved: {args.out} (review: cisync show {args.out}; apply it: {again})")
    return _finish(args, out, job, report)


def _sync(args: argparse.Namespace, out: Output) -> int:
    session = WriteSession(args, will_write=args.apply)
    with session.signals(), out.progress() as progress:
        job = session.job = _job(args, session.watch(progress))
        _check_writable(args, job)
        mode: Mode = "apply" if args.apply else "dry_run"
        with _reported(args, job, mode, session), checked(args, job):
            report = job.run(dry_run=not args.apply, force=args.force, confirm=session.confirm)
    return _finish(args, out, job, report)


def _apply(args: argparse.Namespace, out: Output) -> int:
    session = WriteSession(args, will_write=True)
    with session.signals(), out.progress() as progress:
        job = session.job = _job(args, session.watch(progress), with_source=args.plan is None)
        saved = _read_plan(args.plan, job) if args.plan is not None else None
        _check_writable(args, job)
        with _reported(args, job, "apply", session):
            # refused before anything is read, and like any refusal it leaves its report
            plan = _check_plan(*saved, job) if saved is not None else None
            with checked(args, job):
                if plan is None:
                    report = job.run(dry_run=False, force=args.force, confirm=session.confirm)
                else:
                    report = job.apply(plan, force=args.force, confirm=session.confirm)
                    report = _with_saved_names(report, args.plan)
    return _finish(args, out, job, report)


def _with_saved_names(report: SyncReport, path: Path) -> SyncReport:
    """The applied plan's rows as saved with it (names beside the sys_ids), when they match."""
    try:
        saved = load_saved(path).report
    except CisyncError:  # an older plan file: the rows keep their sys_ids
        return report
    if saved.plan_fingerprint != report.plan_fingerprint or len(saved.actions) != len(
        report.actions
    ):
        return report
    return attrs.evolve(report, actions=saved.actions)


def _write_plan(path: Path, job: SyncJob, report: SyncReport) -> None:
    plan = report.plan
    if plan is None:  # pragma: no cover - plan() always attaches its plan
        raise PlanError(message="no plan to save")
    document = {
        "format": _PLAN_FORMAT,
        "connection": job.settings.connection,
        "destination": job.destination.name,
        "environment": job.destination.environment.value,
        "created_at": datetime.now(timezone.utc).isoformat(),
        "cmdb": plan_to_json(plan),
        # the plan's report, with names beside sys_ids: what `cisync show` reviews
        "report": report.to_dict(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(document, indent=1) + "\n", mode=PRIVATE)


def _read_plan(path: Path, job: SyncJob) -> tuple[Plan, object]:
    """The plan a file saved by ``cisync plan --out`` holds, and the destination it names."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanError(message=f"{path}: cannot read: {exc.strerror}") from exc
    except ValueError as exc:
        raise PlanError(message=f"{path}: not JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != _PLAN_FORMAT:
        raise PlanError(message=f"{path}: not a plan saved by `cisync plan --out`")
    connection = job.settings.connection
    if document.get("connection") != connection:
        raise PlanError(
            message=f"{path}: the plan is for connection {document.get('connection')!r}, "
            f"not {connection!r}"
        )
    return plan_from_json(document.get("cmdb"), source=str(path)), document.get("destination")


def _check_plan(plan: Plan, saved_for: object, job: SyncJob) -> Plan:
    """``plan`` if it was saved for ``job``'s destination; no I/O.

    Raises:
        PlanDestinationError: it was saved for another destination name, or made for
            another instance or environment.
    """
    # the library checks the instance and the environment the plan records; the name
    # matters too, since it names the state folder whose run state the plan carries
    if saved_for != job.destination.name:
        instance, environment = job.destination.identity
        raise PlanDestinationError(
            destination=job.destination.name,
            expected_instance=instance,
            expected_environment=environment,
            found_instance=plan.instance_url,
            found_environment=plan.environment,
            plan_destination=str(saved_for),
        )
    job.check_plan(plan)  # before anything is read: the apply would refuse it anyway
    return plan
