"""Executing a plan's writes: Table API ops, sent in chunked Batch API calls, settled by re-reading.

A plan becomes ops (one record write each, knowing how to check whether it
happened); they go out in Batch API calls, in parallel over the connection's
sessions and in stages (vendors, then apps, then the links that reference
them); a write whose outcome is unknown is settled by re-reading the record,
never by a blind retry.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from attrs import define, field, frozen

from cisync_lib.errors import ServiceNowAuthError, ServiceNowRequestError
from cisync_lib.servicenow import (
    BatchItem,
    BatchOutcome,
    BatchResult,
    ServiceNowConnection,
    q_and,
    q_eq,
    q_in,
)

from ._actions import Plan
from ._config import CmdbConfig
from ._ids import record_sys_id

__all__ = ["Op", "OpKind", "Tally", "app_ops", "count_written", "execute", "link_ops", "verify"]

logger = logging.getLogger(__name__)


# --- ops: a plan as record writes ------------------------------------------------------


class OpKind(str, enum.Enum):
    """What a write does (and so how its outcome is checked by re-reading)."""

    VENDOR = "vendor"
    CREATE = "create"
    UPDATE = "update"
    RETIRE = "retire"
    ADD_LINK = "add_link"
    REMOVE_LINK = "remove_link"


#: write order across parallel calls: a write starts only after every write of an earlier
#: stage has answered (apps reference vendors, links reference apps)
_STAGES: Mapping[OpKind, int] = {
    OpKind.VENDOR: 0,
    OpKind.CREATE: 1,
    OpKind.UPDATE: 1,
    OpKind.RETIRE: 1,
    OpKind.REMOVE_LINK: 2,
    OpKind.ADD_LINK: 2,
}
#: the stage of user links (earlier stages write CIs: vendors and apps)
_LINK_STAGE = 2


@define
class Op:
    """One record write.

    Attributes:
        id: unique within one apply.
        kind: what it does.
        method: POST, PATCH or DELETE.
        table: the table.
        sys_id: the record (for POST: the sys_id it is created with).
        body: the JSON body (POST, PATCH).
        app_id: the app concerned, if any.
        done: settled as done.
        error: why it failed, once it failed for good.
    """

    id: str
    kind: OpKind
    method: str
    table: str
    sys_id: str
    body: Mapping[str, str] | None = None
    app_id: str = ""
    done: bool = False
    error: str = ""
    created_by: str = field(default="", repr=False)


def app_ops(plan: Plan, config: CmdbConfig) -> list[Op]:
    """Vendor, app create, update and retire writes, in that order."""
    ops: list[Op] = []
    for v in plan.vendors:
        body = {"sys_id": v.sys_id, "name": v.name, "vendor": "true"}
        ops.append(Op(f"v{len(ops)}", OpKind.VENDOR, "POST", config.vendor_table, v.sys_id, body))
    for c in plan.creates:
        body = {"sys_id": c.sys_id, **c.values}
        ops.append(
            Op(f"a{len(ops)}", OpKind.CREATE, "POST", plan.app_class, c.sys_id, body, c.app_id)
        )
    for u in plan.updates:
        body = {ch.field: ch.new for ch in u.changes}
        ops.append(
            Op(f"a{len(ops)}", OpKind.UPDATE, "PATCH", plan.app_class, u.sys_id, body, u.app_id)
        )
    for r in plan.retires:
        body = {ch.field: ch.new for ch in r.changes}
        ops.append(
            Op(f"a{len(ops)}", OpKind.RETIRE, "PATCH", plan.app_class, r.sys_id, body, r.app_id)
        )
    return ops


def link_ops(plan: Plan, ci_of: Mapping[str, str] | None = None) -> list[Op]:
    """Link removals, then additions.

    ``ci_of`` maps app ids to the CIs created elsewhere (IRE, which assigns their
    sys_ids). With it, a link to a new app missing from ``ci_of`` is not sent: its
    op carries an error instead, since the CI it would point at never exists.
    """
    ops: list[Op] = []
    table = plan.link_table
    for r in plan.remove_links:
        ops.append(
            Op(f"l{len(ops)}", OpKind.REMOVE_LINK, "DELETE", table, r.sys_id, None, r.app_id)
        )
    rel_type = plan.rel_type or ""
    for a in plan.add_links:
        ci = a.ci
        if a.new_app and ci_of is not None:
            if a.app_id not in ci_of:
                error = f"its app {a.app_id} was not created"
                ops.append(Op(f"l{len(ops)}", OpKind.ADD_LINK, "POST", table, "", None, a.app_id,
                              error=error))  # fmt: skip
                continue
            ci = ci_of[a.app_id]
        sys_id = record_sys_id(table, ci, a.user, rel_type)
        body = {"sys_id": sys_id, "ci": ci, "user": a.user, "type": rel_type}
        ops.append(Op(f"l{len(ops)}", OpKind.ADD_LINK, "POST", table, sys_id, body, a.app_id))
    return ops


# --- sending: chunked Batch API calls over the sessions, in stages ------------------


#: statuses an insert may get because an earlier attempt already created the record
_MAYBE_EXISTS = frozenset({400, 403, 409})


@define
class Tally:
    """What happened while executing (for the apply result)."""

    write_requests: int = 0
    read_requests: int = 0
    settled_by_reread: int = 0
    resent: int = 0
    single_requests: int = 0
    integration_user: str | None = None


def _classify(
    op: Op, res: BatchResult, unknown: list[Op], retry: list[Op], single: list[Op]
) -> None:
    if res.ok:
        op.done = True
        if res.result and op.method == "POST":
            op.created_by = str(res.result.get("sys_created_by", "") or "")
    elif res.outcome is BatchOutcome.NOT_RUN:
        retry.append(op)
    elif res.outcome is BatchOutcome.REFUSED:
        single.append(op)
    elif res.outcome is BatchOutcome.UNKNOWN:
        unknown.append(op)
    elif op.method == "DELETE" and res.status == 404:
        op.done = True  # already gone
    elif (op.method == "POST" and res.status in _MAYBE_EXISTS) or (res.status or 0) >= 500:
        op.error = f"HTTP {res.status}: {res.detail}"
        unknown.append(op)
    else:
        op.error = f"HTTP {res.status}: {res.detail}"


def _single(conn: ServiceNowConnection, op: Op, unknown: list[Op]) -> None:
    """Send one write on its own (the instance refused Batch API calls)."""
    try:
        if op.method == "POST":
            row = conn.insert_row(op.table, dict(op.body or {}))
            op.created_by = row.get("sys_created_by", "")
        elif op.method == "PATCH":
            conn.update(op.table, op.sys_id, dict(op.body or {}))
        else:
            conn.delete(op.table, op.sys_id)
        op.done = True
    except ServiceNowRequestError as exc:
        status = exc.status or 0
        if op.method == "DELETE" and status == 404:
            op.done = True
        elif (
            exc.outcome_unknown
            or status >= 500
            or exc.status is None
            or (op.method == "POST" and status in _MAYBE_EXISTS)
        ):
            op.error = str(exc)
            unknown.append(op)
        else:
            op.error = str(exc)
    except ServiceNowAuthError as exc:
        if op.method == "POST" and exc.status == 403:
            # ServiceNow answers 403 to an insert on an existing sys_id: maybe ours already
            op.error = str(exc)
            unknown.append(op)
        else:
            raise


def _items(ops: Sequence[Op]) -> list[BatchItem]:
    return [
        BatchItem(
            id=o.id,
            method=o.method,
            table=o.table,
            sys_id=None if o.method == "POST" else o.sys_id,
            body=o.body,
            fields=("sys_id", "sys_created_by") if o.method == "POST" else ("sys_id",),
        )
        for o in ops
    ]


@frozen
class _Chunk:
    """The ops of one Batch API call, and the earliest and latest stage among them."""

    ops: Sequence[Op]
    first: int
    last: int


def _chunks(ops: Sequence[Op], size: int, ci_size: int) -> list[_Chunk]:
    """Cut ``ops`` (in order) into calls of at most ``size`` writes, ``ci_size`` of them CIs.

    A CI write (vendor, app) weighs ``size / ci_size`` link writes, so a call holds
    ``size`` links, ``ci_size`` CIs, or a mix in proportion.
    """
    ci_size = min(ci_size, size)
    capacity = size * ci_size
    out: list[_Chunk] = []
    part: list[Op] = []
    weight = 0
    for op in ops:
        cost = size if _STAGES[op.kind] < _LINK_STAGE else ci_size
        if part and weight + cost > capacity:
            out.append(_chunk(part))
            part, weight = [], 0
        part.append(op)
        weight += cost
    if part:
        out.append(_chunk(part))
    return out


def _chunk(part: Sequence[Op]) -> _Chunk:
    stages = [_STAGES[o.kind] for o in part]
    return _Chunk(part, min(stages), max(stages))


#: seconds an interrupted apply waits for the calls already on the wire, to count them
INTERRUPT_GRACE = 5.0

Settle = Callable[[Sequence[Op], Sequence[BatchResult]], None]


def _send_round(
    conn: ServiceNowConnection, ops: Sequence[Op], sizes: tuple[int, int], settle: Settle
) -> None:
    """Send ``ops`` in Batch API calls over the connection's sessions, settling each call.

    Calls run in parallel, at most one per session, in order; a call holding a
    later stage (links) starts only once every call holding an earlier stage
    (the vendors and apps they reference) has answered. ``settle`` runs in the
    calling thread as each call answers. On an interrupt (or any error) no new
    call starts; calls already on the wire get :data:`INTERRUPT_GRACE` seconds
    to answer and are settled, so the ops marked done are exactly those written.
    """
    chunks = _chunks(ops, *sizes)
    workers = min(getattr(conn, "sessions", 1), len(chunks))
    if workers <= 1:
        for chunk in chunks:
            settle(chunk.ops, conn.batch(_items(chunk.ops), chunk_size=len(chunk.ops)))
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cisync-apply")
    running: dict[Future[list[BatchResult]], _Chunk] = {}

    def collect(done: Iterable[Future[list[BatchResult]]]) -> None:
        for future in done:
            chunk = running.pop(future)
            settle(chunk.ops, future.result())

    finished = False
    try:
        for chunk in chunks:
            while len(running) >= workers or any(c.first < chunk.last for c in running.values()):
                collect(wait(running, return_when=FIRST_COMPLETED).done)
            items = _items(chunk.ops)
            running[pool.submit(conn.batch, items, chunk_size=len(items))] = chunk
        while running:
            collect(wait(running, return_when=FIRST_COMPLETED).done)
        finished = True
    finally:
        try:
            if not finished:
                _settle_in_flight(running, settle)
        finally:
            pool.shutdown(wait=finished, cancel_futures=True)


def _settle_in_flight(running: dict[Future[list[BatchResult]], _Chunk], settle: Settle) -> None:
    """After an interrupt or error: give the calls on the wire time to answer, settle them.

    The progress callback may raise again (a second Ctrl-C, or a stop requested between
    calls): every answered call is still settled, and the first such error is raised
    afterwards (the one already propagating wins over it).
    """
    done, _ = wait(running, timeout=INTERRUPT_GRACE)
    again: BaseException | None = None
    for future in done:
        chunk = running.pop(future)
        if future.cancelled() or future.exception() is not None:
            continue
        try:
            settle(chunk.ops, future.result())
        except BaseException as exc:  # re-raised below, after the others
            again = again or exc
    if again is not None:
        raise again


def execute(
    conn: ServiceNowConnection,
    ops: Sequence[Op],
    config: CmdbConfig,
    tally: Tally,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Run ``ops`` in order, ``config.batch_size`` per Batch API call, settling each.

    A call holds at most ``config.ci_batch_size`` CI writes (they run more business
    rules on the instance than links do).

    Calls go out in parallel over the connection's sessions (apps before the
    links that reference them, see :func:`_send_round`). Unserviced items are
    re-sent (they did not run); items whose outcome is unknown are re-read and
    re-sent only if the read shows they did not happen; the instance refusing
    batches falls back to single requests. After ``config.max_rounds`` rounds,
    ops still pending keep their error. ``progress`` gets the running count of
    settled writes after every call (and once more if interrupted).
    """
    total = len(ops)
    pending = list(ops)
    position = {id(o): i for i, o in enumerate(ops)}
    written = sum(1 for o in ops if o.done)

    def report() -> None:
        if progress is not None:
            progress(written, total)

    for round_no in range(config.max_rounds):
        if not pending:
            break
        if round_no:
            tally.resent += len(pending)
            logger.info("round %d: re-sending %d write(s)", round_no + 1, len(pending))
        before = conn.request_count
        unknown: list[Op] = []
        retry: list[Op] = []
        single: list[Op] = []

        def settle(
            chunk: Sequence[Op],
            results: Sequence[BatchResult],
            lists: tuple[list[Op], list[Op], list[Op]] = (unknown, retry, single),
        ) -> None:
            nonlocal written
            for op, res in zip(chunk, results, strict=True):
                _classify(op, res, *lists)
                written += op.done
            report()

        try:
            _send_round(conn, pending, (config.batch_size, config.ci_batch_size), settle)
        except BaseException:
            try:
                report()  # the true count of what was written before the interrupt
            except BaseException:  # the first interrupt is the one raised
                logger.debug("progress callback raised again while reporting the final count")
            raise
        for op in single:
            tally.single_requests += 1
            _single(conn, op, unknown)
            written += op.done
        tally.write_requests += conn.request_count - before
        if unknown:
            before = conn.request_count
            verify(conn, unknown, config)
            tally.read_requests += conn.request_count - before
            settled = [o for o in unknown if o.done]
            tally.settled_by_reread += len(settled)
            written += len(settled)
            for o in settled:
                o.error = ""
            retry += [o for o in unknown if not o.done and o.error != "the record no longer exists"]
        pending = sorted(retry, key=lambda o: position[id(o)])  # stages in order again
        report()
    for op in ops:
        if op.created_by and tally.integration_user is None:
            tally.integration_user = op.created_by
        if not op.done and not op.error:
            op.error = "not settled after the last round"


# --- settling by re-reading ------------------------------------------------------------


def _groups(ops: Sequence[Op], size: int) -> list[Sequence[Op]]:
    return [ops[i : i + size] for i in range(0, len(ops), size)]


def verify(conn: ServiceNowConnection, ops: Sequence[Op], config: CmdbConfig) -> None:
    """Mark each op done if the instance shows its effect; leave the others pending.

    * app inserts: found by ``correlation_id`` (whatever their sys_id);
    * link inserts: found by (ci, user, type);
    * vendor inserts: found by sys_id;
    * updates: the record's fields already hold the new values;
    * deletes: the record is gone.
    """
    size = config.in_chunk
    creates = [o for o in ops if o.kind is OpKind.CREATE]
    for group in _groups(creates, size):
        ids = {o.body["correlation_id"]: o for o in group if o.body}
        query = q_in("correlation_id", ids)
        for row in conn.query(group[0].table, query=query, fields=("correlation_id",)):
            op = ids.get(row.get("correlation_id", ""))
            if op is not None:
                op.done = True
                op.sys_id = row["sys_id"]  # the CI that exists, should it not be ours
    adds = [o for o in ops if o.kind is OpKind.ADD_LINK]
    for group in _groups(adds, size):
        by_key = {(o.body["ci"], o.body["user"]): o for o in group if o.body}
        query = q_and(
            q_eq("type", group[0].body["type"] if group[0].body else ""),
            q_in("ci", sorted({ci for ci, _ in by_key})),
            q_in("user", sorted({u for _, u in by_key})),
        )
        for row in conn.query(group[0].table, query=query, fields=("ci", "user")):
            op = by_key.get((row.get("ci", ""), row.get("user", "")))
            if op is not None:
                op.done = True
    rest = [o for o in ops if o.kind not in (OpKind.CREATE, OpKind.ADD_LINK)]
    by_table: dict[str, list[Op]] = {}
    for o in rest:
        by_table.setdefault(o.table, []).append(o)
    for table, table_ops in by_table.items():
        for group in _groups(table_ops, size):
            # deletes have no body: ask for sys_id alone, not every field of the rows
            fields = sorted({k for o in group for k in (o.body or {})}) or ["sys_id"]
            found = {
                row["sys_id"]: row
                for row in conn.query(
                    table, query=q_in("sys_id", [o.sys_id for o in group]), fields=fields
                )
            }
            for o in group:
                current = found.get(o.sys_id)
                if o.method == "DELETE":
                    o.done = current is None
                elif o.method == "POST":
                    o.done = current is not None
                else:
                    o.done = current is not None and all(
                        current.get(k, "") == v for k, v in (o.body or {}).items()
                    )
                    if current is None:
                        o.error = "the record no longer exists"


def count_written(
    plan: Plan, conn: ServiceNowConnection, config: CmdbConfig | None = None
) -> dict[str, int]:
    """How many of ``plan``'s writes the instance shows as done, per kind, by re-reading them.

    For an apply that was stopped part-way (an interrupt): the answer comes from
    the instance, not from what the writer believed it had sent, so it stays true
    when the last request's answer never arrived. Kinds are the :class:`OpKind`
    values (``vendor``, ``create``, ``update``, ``retire``, ``add_link``,
    ``remove_link``). With the IRE write path, links to CIs that IRE created are
    not found by their planned CI and count as not written.
    """
    config = config or CmdbConfig()
    ops = app_ops(plan, config) + link_ops(plan)
    verify(conn, ops, config)
    counts = {kind.value: 0 for kind in OpKind}
    for op in ops:
        if op.done:
            counts[op.kind.value] += 1
    return counts
