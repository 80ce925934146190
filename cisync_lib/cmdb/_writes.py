"""Turning a plan into Table API writes, each knowing how to check whether it happened."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from attrs import define, field

from ._actions import Plan
from ._config import CmdbConfig
from ._ids import record_sys_id

__all__ = ["LINK_STAGE", "STAGES", "Op", "OpKind", "app_ops", "link_ops"]


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
STAGES: Mapping[OpKind, int] = {
    OpKind.VENDOR: 0,
    OpKind.CREATE: 1,
    OpKind.UPDATE: 1,
    OpKind.RETIRE: 1,
    OpKind.REMOVE_LINK: 2,
    OpKind.ADD_LINK: 2,
}
#: the stage of user links (earlier stages write CIs: vendors and apps)
LINK_STAGE = 2


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
