"""Running writes in chunked Batch API calls until each is settled."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from attrs import define

from cisync_lib._errors_remote import ServiceNowAuthError, ServiceNowRequestError
from cisync_lib.servicenow import BatchItem, BatchOutcome, BatchResult, ServiceNowConnection

from ._config import CmdbConfig
from ._verify import verify
from ._writes import Op

__all__ = ["Tally", "execute"]

logger = logging.getLogger(__name__)

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


def execute(
    conn: ServiceNowConnection,
    ops: Sequence[Op],
    config: CmdbConfig,
    tally: Tally,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Run ``ops`` in order, ``config.batch_size`` per Batch API call, settling each.

    Unserviced items are re-sent (they did not run); items whose outcome is
    unknown are re-read and re-sent only if the read shows they did not
    happen; the instance refusing batches falls back to single requests. After
    ``config.max_rounds`` rounds, ops still pending keep their error.
    """
    total = len(ops)
    pending = list(ops)
    base = sum(1 for o in ops if o.done)

    def report(_n: int = 0, _t: int = 0) -> None:
        if progress is not None:
            progress(base + sum(1 for o in ops if o.done), total)

    for round_no in range(config.max_rounds):
        if not pending:
            break
        if round_no:
            tally.resent += len(pending)
            logger.info("round %d: re-sending %d write(s)", round_no + 1, len(pending))
        items = [
            BatchItem(
                id=o.id,
                method=o.method,
                table=o.table,
                sys_id=None if o.method == "POST" else o.sys_id,
                body=o.body,
                fields=("sys_id", "sys_created_by") if o.method == "POST" else ("sys_id",),
            )
            for o in pending
        ]
        before = conn.request_count
        results = conn.batch(items, chunk_size=config.batch_size, progress=report)
        unknown: list[Op] = []
        retry: list[Op] = []
        single: list[Op] = []
        for op, res in zip(pending, results, strict=True):
            _classify(op, res, unknown, retry, single)
        for op in single:
            tally.single_requests += 1
            _single(conn, op, unknown)
        tally.write_requests += conn.request_count - before
        if unknown:
            before = conn.request_count
            verify(conn, unknown, config)
            tally.read_requests += conn.request_count - before
            settled = [o for o in unknown if o.done]
            tally.settled_by_reread += len(settled)
            for o in settled:
                o.error = ""
            retry += [o for o in unknown if not o.done and o.error != "the record no longer exists"]
        pending = retry
        report()
    for op in ops:
        if op.created_by and tally.integration_user is None:
            tally.integration_user = op.created_by
        if not op.done and not op.error:
            op.error = "not settled after the last round"
