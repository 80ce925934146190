"""apply: the only writer. Executes exactly a plan, after checking its fingerprint."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Literal

from attrs import frozen

from cisync_lib.errors import ApplyError, CisyncError, ConfigError, StalePlanError
from cisync_lib.servicenow import ServiceNowConnection

from ._actions import Plan
from ._config import CmdbConfig, WritePath
from ._desired import DesiredState
from ._execute import Op, OpKind, Tally, app_ops, execute, link_ops
from ._ire import ire_preflight, ire_write_apps
from ._plan import make_plan
from ._read import read_state
from ._runstate import RunStateStore
from ._state import CurrentState

__all__ = ["ApplyProgress", "ApplyResult", "apply"]

logger = logging.getLogger(__name__)


@frozen(kw_only=True)
class ApplyProgress:
    """Progress of an apply, given to the ``progress`` callback.

    Attributes:
        phase: ``check``, then ``write`` (Table API: apps and links in one stream) or,
            with IRE, ``apps`` and ``links``.
        done: writes settled in this phase so far.
        total: writes in this phase.
    """

    phase: str
    done: int
    total: int


@frozen(kw_only=True)
class ApplyResult:
    """What apply did.

    Attributes:
        plan: the plan executed (a new one if it was re-planned).
        replanned: the instance had changed and the plan was recomputed.
        vendors_created: vendor companies inserted.
        apps_created: CIs inserted.
        apps_updated: CIs changed.
        apps_retired: CIs retired.
        links_added: user links inserted.
        links_removed: user links deleted.
        settled_by_reread: writes whose unknown outcome a re-read settled.
        resent: writes sent again (unserviced, not sent, or shown not done by a re-read).
        single_requests: writes sent one by one because batches were refused.
        read_requests: round trips spent reading (fingerprint check, re-reads).
        write_requests: round trips spent writing.
        seconds: wall time.
    """

    plan: Plan
    replanned: bool = False
    vendors_created: int = 0
    apps_created: int = 0
    apps_updated: int = 0
    apps_retired: int = 0
    links_added: int = 0
    links_removed: int = 0
    settled_by_reread: int = 0
    resent: int = 0
    single_requests: int = 0
    read_requests: int = 0
    write_requests: int = 0
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        """All round trips apply made."""
        return self.read_requests + self.write_requests


def _done(ops: list[Op], kind: OpKind) -> int:
    return sum(1 for o in ops if o.kind is kind and o.done)


def apply(
    plan: Plan,
    conn: ServiceNowConnection,
    config: CmdbConfig | None = None,
    *,
    on_stale: Literal["refuse", "replan"] = "refuse",
    state: CurrentState | None = None,
    desired: DesiredState | None = None,
    run_state: RunStateStore | None = None,
    force: bool = False,
    progress: Callable[[ApplyProgress], None] | None = None,
) -> ApplyResult:
    """Execute exactly ``plan`` against the instance.

    First the blast-radius guard, then the fingerprint: the plan's rows are
    read again (or ``state`` is used, when the caller read it in this process
    just before planning) and compared with ``plan.fingerprint``, and the
    run-state file's completed runs with the plan's. On a mismatch apply
    refuses (:class:`~cisync_lib.StalePlanError`) or, with
    ``on_stale="replan"``, plans again from ``desired``. The pending run state
    is saved before the first write and committed after the last.

    Writes go in chunked Batch API calls (``config.batch_size`` each; app CIs
    through IRE with ``write_path=ire``). Unserviced items are re-sent; a write
    whose outcome is unknown is settled by re-reading; inserts use
    deterministic sys_ids, so nothing can be created twice.

    Args:
        plan: the plan (from :func:`make_plan` or :func:`load_plan`).
        conn: the connection.
        config: the CMDB config the plan was made with.
        on_stale: what to do when the instance changed since planning.
        state: the state the plan was computed from, if read just now in this process.
        desired: the desired state, needed for ``on_stale="replan"``.
        run_state: the job's run-state file.
        force: go ahead although the guard refuses.
        progress: called as writes settle.

    Raises:
        GuardRefusedError: the plan removes too much and ``force`` is not set.
        StalePlanError: the instance, or the run state (runs committed since the
            plan was made), changed and ``on_stale="refuse"``.
        CmdbSetupError: IRE preflight failed (nothing written).
        ApplyError: some writes failed; everything else was applied.
    """
    config = config or CmdbConfig()
    started, first = time.monotonic(), conn.request_count
    plan.guard.check(force)
    if on_stale == "replan" and desired is None:
        raise ConfigError(key="desired", problem="on_stale='replan' needs the desired state")
    if progress is not None:
        progress(ApplyProgress(phase="check", done=0, total=1))
    current = (
        state if state is not None else read_state(conn, config, plan.scope, field_limits=False)
    )
    replanned = False
    stored = run_state.load() if run_state is not None else None
    # a plan made before other runs were committed would rewind their grace-period counts
    runs_moved = stored is not None and stored.completed_runs != plan.run_state.completed_runs
    if current.fingerprint != plan.fingerprint or runs_moved:
        if on_stale != "replan" or desired is None:
            raise StalePlanError(
                expected=plan.fingerprint,
                actual=current.fingerprint,
                expected_runs=plan.run_state.completed_runs,
                actual_runs=stored.completed_runs if stored is not None else None,
            )
        logger.info("the instance or the run state changed since planning; planning again")
        plan = make_plan(desired, current, config, stored)
        plan.guard.check(force)
        replanned = True
    if config.write_path is WritePath.IRE and (plan.creates or plan.updates or plan.retires):
        ire_preflight(conn, config)
    tally = Tally(read_requests=conn.request_count - first)
    if run_state is not None:
        try:
            run_state.save(plan.run_state)  # first-missed times survive a crash from here on
        except OSError as exc:
            raise ConfigError(
                file=str(run_state.path),
                problem=f"cannot write the run state ({exc.strerror or exc}); nothing was "
                "written to the instance. Make its folder writable (sync.state_dir)",
            ) from exc

    def phase(name: str) -> Callable[[int, int], None]:
        def report(done: int, total: int) -> None:
            if progress is not None:
                progress(ApplyProgress(phase=name, done=done, total=total))

        return report

    apps: list[Op] = []
    links: list[Op] = []
    try:
        if config.write_path is WritePath.IRE:
            apps = ire_write_apps(conn, plan, config, tally, phase("apps"))
            ci_of = {o.app_id: o.sys_id for o in apps if o.kind is OpKind.CREATE and o.done}
            links = link_ops(plan, ci_of)
            execute(conn, [o for o in links if not o.error], config, tally, phase("links"))
        else:
            # one ordered stream: apps precede their links, so batches stay full
            apps = app_ops(plan, config)
            links = link_ops(plan)
            execute(conn, apps + links, config, tally, phase("write"))
    except CisyncError as exc:
        # a late failure (the instance went away, credentials revoked): say what was done
        done = sum(1 for o in apps + links if o.done)
        raise ApplyError(
            done=done,
            failed=max(plan.write_count - done, 0),
            stopped=f"{type(exc).__name__}: {exc}",
        ) from exc
    ops = apps + links
    failed = [o for o in ops if not o.done]
    if failed:
        raise ApplyError(
            done=len(ops) - len(failed),
            failed=len(failed),
            problems=[f"{o.kind.value} {o.table}/{o.sys_id}: {o.error}" for o in failed],
        )
    if run_state is not None:
        try:
            run_state.save(plan.run_state.committed(tally.integration_user))
        except OSError as exc:
            raise ApplyError(
                done=len(ops),
                stopped=f"every write was made, but the run state {run_state.path} could not "
                f"be saved ({exc.strerror or exc}), so this run does not count toward grace "
                "periods",
                fix="Make the state folder writable and run again: it writes nothing new and "
                "commits the run.",
            ) from exc
    return ApplyResult(
        plan=plan,
        replanned=replanned,
        vendors_created=_done(ops, OpKind.VENDOR),
        apps_created=_done(ops, OpKind.CREATE),
        apps_updated=_done(ops, OpKind.UPDATE),
        apps_retired=_done(ops, OpKind.RETIRE),
        links_added=_done(ops, OpKind.ADD_LINK),
        links_removed=_done(ops, OpKind.REMOVE_LINK),
        settled_by_reread=tally.settled_by_reread,
        resent=tally.resent,
        single_requests=tally.single_requests,
        read_requests=tally.read_requests,
        write_requests=tally.write_requests,
        seconds=time.monotonic() - started,
    )
