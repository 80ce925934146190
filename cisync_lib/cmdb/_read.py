"""read_state: the instance's relevant rows, read lean (few fields, sys_id paging)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone

from cisync_lib._errors_cmdb import UnsafeQueryError
from cisync_lib.servicenow import ServiceNowConnection, q_and, q_eq, q_in, q_is_empty, q_or_eq
from cisync_lib.servicenow import q_startswith as q_sw

from ._config import CmdbConfig
from ._desired import DesiredState
from ._state import APP_FIELDS, AppRow, CurrentState, LinkRow, ReadScope

__all__ = ["CHOICE_ELEMENTS", "read_state"]

logger = logging.getLogger(__name__)

CHOICE_ELEMENTS = ("application_type", "install_type", "operational_status", "discovery_source")
_MAX_QUERY = 3000  # characters per OR-list query, well under URL limits


def read_state(
    conn: ServiceNowConnection,
    config: CmdbConfig | None = None,
    scope: ReadScope | DesiredState | None = None,
) -> CurrentState:
    """Read the rows a plan is computed from.

    Reads ``sys_choice`` for the app fields, the relationship type by name, the
    CIs of the app class that carry our correlation prefix (plus, for adoption,
    those without a correlation id whose name is desired), the vendors by name,
    and the user links of the configured type on those CIs.

    Args:
        conn: the connection.
        config: the CMDB config.
        scope: what to read: a :class:`ReadScope` (a plan's ``scope``), or the
            desired state it is derived from.
    """
    config = config or CmdbConfig()
    if isinstance(scope, DesiredState):
        scope = scope.read_scope(config)
    scope = scope or ReadScope()
    read_at = datetime.now(timezone.utc)
    choices = _choices(conn, config)
    rel_type = _rel_type(conn, config) if scope.read_links else None
    apps = _apps(conn, config, scope)
    vendors = _vendors(conn, config, scope.vendor_names)
    links: tuple[LinkRow, ...] = ()
    if scope.read_links and rel_type is not None:
        cis = {a.sys_id for a in apps}
        links = tuple(_links(conn, config, rel_type, cis))
    return CurrentState(
        apps=tuple(apps),
        links=links,
        links_read=scope.read_links,
        choices=choices,
        rel_type=rel_type,
        vendors=vendors,
        integration_user=config.integration_user or conn.user_name,
        read_at=read_at,
        scope=scope,
    )


def _choices(conn: ServiceNowConnection, config: CmdbConfig) -> dict[str, dict[str, str]]:
    query = q_and(q_in("name", [config.app_class, "cmdb_ci"]), q_in("element", CHOICE_ELEMENTS))
    rows = conn.query(
        "sys_choice", query=query, fields=("name", "element", "value", "label", "inactive")
    )
    found: dict[str, dict[str, str]] = {}
    # the class's own choices win over those inherited from cmdb_ci
    for row in sorted(rows, key=lambda r: (r.get("name") == config.app_class, r["sys_id"])):
        if row.get("inactive", "").lower() == "true":
            continue
        found.setdefault(row.get("element", ""), {})[row.get("label", "")] = row.get("value", "")
    return found


def _rel_type(conn: ServiceNowConnection, config: CmdbConfig) -> str | None:
    name = config.rel_type_name
    query = q_or_eq("name", [name]) + "^OR" + q_eq("parent_descriptor", name)
    rows = list(
        conn.query(config.rel_type_table, query=query, fields=("name", "parent_descriptor"))
    )
    for key in ("name", "parent_descriptor"):
        exact = [r for r in rows if r.get(key) == name]
        if exact:
            return exact[0]["sys_id"]
    folded = [
        r
        for r in rows
        if name.casefold()
        in (r.get("name", "").casefold(), r.get("parent_descriptor", "").casefold())
    ]
    return folded[0]["sys_id"] if folded else None


def _app_fields(config: CmdbConfig) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*APP_FIELDS, config.description_field]))


def _apps(conn: ServiceNowConnection, config: CmdbConfig, scope: ReadScope) -> list[AppRow]:
    ours = q_sw("correlation_id", config.correlation_prefix)
    adopt = config.adopt_by_name and bool(scope.app_names)
    query = f"{ours}^OR{q_is_empty('correlation_id')}" if adopt else ours
    names = set(scope.app_names)
    fields = _app_fields(config)
    out = []
    for row in conn.query(config.app_class, query=query, fields=fields):
        cid = row.get("correlation_id", "")
        if cid.startswith(config.correlation_prefix) or (not cid and row.get("name") in names):
            values = {
                k: row.get(k, "") for k in fields if k not in ("sys_id", "correlation_id", "name")
            }
            out.append(
                AppRow(
                    sys_id=row["sys_id"],
                    correlation_id=cid,
                    name=row.get("name", ""),
                    values=values,
                )
            )
    return out


def _or_chunks(field: str, values: Iterable[str]) -> Iterator[str]:
    chunk: list[str] = []
    size = 0
    for value in values:
        try:
            part = q_eq(field, value)
        except UnsafeQueryError:
            logger.warning("vendor name %r cannot be looked up safely; left unresolved", value)
            continue
        if chunk and size + len(part) + 3 > _MAX_QUERY:
            yield q_or_eq(field, chunk)
            chunk, size = [], 0
        chunk.append(value)
        size += len(part) + 3
    if chunk:
        yield q_or_eq(field, chunk)


def _vendors(
    conn: ServiceNowConnection, config: CmdbConfig, names: Iterable[str]
) -> dict[str, str]:
    wanted = sorted(set(names))
    rows: list[dict[str, str]] = []
    for query in _or_chunks("name", wanted):
        rows.extend(conn.query(config.vendor_table, query=query, fields=("name",)))
    exact: dict[str, str] = {}
    folded: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: r["sys_id"]):
        exact.setdefault(row.get("name", ""), row["sys_id"])
        folded.setdefault(row.get("name", "").casefold(), row["sys_id"])
    out = {}
    for name in wanted:
        sys_id = exact.get(name) or folded.get(name.casefold())
        if sys_id:
            out[name] = sys_id
    return out


def _links(
    conn: ServiceNowConnection, config: CmdbConfig, rel_type: str, cis: set[str]
) -> Iterator[LinkRow]:
    intern: dict[str, str] = {}
    fields = ("ci", "user", "type", "sys_created_by")
    for row in conn.query(config.link_table, query=q_eq("type", rel_type), fields=fields):
        ci = row.get("ci", "")
        if ci not in cis:
            continue
        user = row.get("user", "")
        creator = row.get("sys_created_by", "")
        yield LinkRow(
            sys_id=row["sys_id"],
            ci=intern.setdefault(ci, ci),
            user=intern.setdefault(user, user),
            created_by=intern.setdefault(creator, creator),
        )
