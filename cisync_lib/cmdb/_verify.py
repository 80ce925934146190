"""Settling writes whose outcome is unknown by re-reading the records, never by blind retry."""

from __future__ import annotations

from collections.abc import Sequence

from cisync_lib.servicenow import ServiceNowConnection, q_and, q_eq, q_in

from ._actions import Plan
from ._config import CmdbConfig
from ._writes import Op, OpKind, app_ops, link_ops

__all__ = ["count_written", "verify"]


def _chunks(ops: Sequence[Op], size: int) -> list[Sequence[Op]]:
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
    for group in _chunks(creates, size):
        ids = {o.body["correlation_id"]: o for o in group if o.body}
        query = q_in("correlation_id", ids)
        for row in conn.query(group[0].table, query=query, fields=("correlation_id",)):
            op = ids.get(row.get("correlation_id", ""))
            if op is not None:
                op.done = True
                op.sys_id = row["sys_id"]  # the CI that exists, should it not be ours
    adds = [o for o in ops if o.kind is OpKind.ADD_LINK]
    for group in _chunks(adds, size):
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
        for group in _chunks(table_ops, size):
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
