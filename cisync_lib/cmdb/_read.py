"""read_state: the instance's relevant rows, read lean (few fields, sys_id paging)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from attrs import frozen

from cisync_lib.errors import UnsafeQueryError
from cisync_lib.servicenow import ServiceNowConnection, q_and, q_eq, q_in, q_is_empty, q_or_eq
from cisync_lib.servicenow import q_startswith as q_sw

from ._config import DEFAULT_FIELD_POLICY, CmdbConfig
from ._desired import DesiredState
from ._limits import fit_vendor, read_field_limits
from ._state import (
    DEFAULT_LIMITS,
    AppRow,
    CurrentState,
    FieldLimits,
    LinkRow,
    ReadScope,
)

__all__ = ["APP_FIELDS", "CHOICE_ELEMENTS", "PrefetchedRows", "prefetch_state", "read_state"]

logger = logging.getLogger(__name__)

#: app fields read from the instance: identity, and every field the library may write (so
#: the planner compares with the current value and writes only a change)
APP_FIELDS = ("sys_id", "correlation_id", *DEFAULT_FIELD_POLICY)
CHOICE_ELEMENTS = ("application_type", "install_type", "operational_status", "discovery_source")
_MAX_QUERY = 3000  # characters per OR-list query, well under URL limits


@frozen(kw_only=True)
class PrefetchedRows:
    """The rows :func:`read_state` needs that do not depend on the desired state.

    Read while the Defender data is still being fetched; :func:`read_state`
    narrows them to the desired state's scope, giving exactly the rows (and the
    fingerprint) a read from scratch would give.

    Attributes:
        choices: the choice lists of the app fields.
        rel_type: the relationship type's sys_id, if found (and links were read).
        apps: every CI that may be in scope: ours, plus those without a
            correlation id when adoption by name is on.
        adopt_candidates: whether ``apps`` includes the CIs without a correlation id.
        links: every link of the relationship type, or None when not read.
    """

    choices: dict[str, dict[str, str]]
    rel_type: str | None
    apps: tuple[AppRow, ...]
    adopt_candidates: bool
    links: tuple[LinkRow, ...] | None


def _pool(conn: ServiceNowConnection) -> ThreadPoolExecutor:
    workers = max(1, min(getattr(conn, "sessions", 1), 4))
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cisync-read")


def prefetch_state(
    conn: ServiceNowConnection, config: CmdbConfig | None = None, *, read_links: bool = True
) -> PrefetchedRows:
    """Read the choice lists, relationship type, candidate apps and links, in parallel.

    Args:
        conn: the connection (its sessions bound the reads in flight).
        config: the CMDB config.
        read_links: read the user links too.
    """
    config = config or CmdbConfig()
    adopt = config.adopt_by_name
    with _pool(conn) as pool:
        choices = pool.submit(_choices, conn, config)
        apps = pool.submit(_apps, conn, config, adopt, None)
        rel_type = _rel_type(conn, config) if read_links else None
        links = tuple(_links(conn, config, rel_type, None)) if rel_type is not None else None
        return PrefetchedRows(
            choices=choices.result(),
            rel_type=rel_type,
            apps=tuple(apps.result()),
            adopt_candidates=adopt,
            links=links if read_links else None,
        )


def read_state(
    conn: ServiceNowConnection,
    config: CmdbConfig | None = None,
    scope: ReadScope | DesiredState | None = None,
    *,
    prefetched: PrefetchedRows | None = None,
    field_limits: bool = True,
    saved_limits: FieldLimits | None = None,
) -> CurrentState:
    """Read the rows a plan is computed from.

    Reads ``sys_choice`` for the app fields, the relationship type by name, the
    CIs of the app class that carry our correlation prefix (plus, for adoption,
    those without a correlation id whose name is desired), the vendors by name,
    and the user links of the configured type on those CIs. Independent reads
    run in parallel over the connection's sessions.

    Args:
        conn: the connection.
        config: the CMDB config.
        scope: what to read: a plan's ``scope``, or the
            desired state it is derived from.
        prefetched: rows read earlier by :func:`prefetch_state` with the same
            connection and config (only the vendors, and what it left out, are read).
        field_limits: also read the column lengths from ``sys_dictionary`` (one
            request; apply's re-read for the fingerprint check skips it).
        saved_limits: the lengths the run state saved, used (as the planner will)
            when the dictionary cannot be read, so vendors are looked up by the
            names the plan will write.
    """
    config = config or CmdbConfig()
    if isinstance(scope, DesiredState):
        scope = scope.read_scope(config)
    scope = scope or ReadScope()
    read_at = datetime.now(timezone.utc)
    names = set(scope.app_names)
    adopt = config.adopt_by_name and bool(names)
    with _pool(conn) as pool:
        # vendors are looked up by the name the planner will write (cleaned, cut to the
        # column), so the column lengths are read first, in the same worker
        vendors = pool.submit(
            _limits_and_vendors, conn, config, scope.vendor_names, field_limits, saved_limits
        )
        if prefetched is None:
            choices_job = pool.submit(_choices, conn, config)
            apps_job = pool.submit(_apps, conn, config, adopt, names)
            rel_type = _rel_type(conn, config) if scope.read_links else None
            choices, apps = choices_job.result(), apps_job.result()
            link_rows = None
        else:
            choices = prefetched.choices
            apps = [a for a in prefetched.apps if _in_scope(a, config, names)]
            if adopt and not prefetched.adopt_candidates:
                apps = _apps(conn, config, adopt, names)  # the prefetch left the candidates out
            rel_type = prefetched.rel_type if prefetched.links is not None else None
            if scope.read_links and prefetched.links is None:
                rel_type = _rel_type(conn, config)
            link_rows = prefetched.links
        links: tuple[LinkRow, ...] = ()
        if scope.read_links and rel_type is not None:
            cis = {a.sys_id for a in apps}
            if link_rows is None:
                links = tuple(_links(conn, config, rel_type, cis))
            else:
                links = tuple(row for row in link_rows if row.ci in cis)
        limits, vendor_ids = vendors.result()
    return CurrentState(
        apps=tuple(apps),
        links=links,
        links_read=scope.read_links,
        choices=choices,
        rel_type=rel_type,
        vendors=vendor_ids,
        integration_user=config.integration_user or conn.user_name,
        read_at=read_at,
        scope=scope,
        field_limits=limits,
        limits_unreadable=field_limits and limits is None,
    )


def _limits_and_vendors(
    conn: ServiceNowConnection,
    config: CmdbConfig,
    names: Iterable[str],
    read_limits: bool,
    saved: FieldLimits | None,
) -> tuple[FieldLimits | None, dict[str, str]]:
    limits = read_field_limits(conn, config) if read_limits else None
    fitted = {fit_vendor(n, limits or saved or DEFAULT_LIMITS) for n in names}
    return limits, _vendors(conn, config, fitted)


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


def _in_scope(app: AppRow, config: CmdbConfig, names: set[str]) -> bool:
    cid = app.correlation_id
    return cid.startswith(config.correlation_prefix) or (not cid and app.name in names)


def _apps(
    conn: ServiceNowConnection, config: CmdbConfig, adopt: bool, names: set[str] | None
) -> list[AppRow]:
    """Our CIs, and with ``adopt`` those without a correlation id.

    Candidates for adoption are kept when named in ``names`` (all of them when ``names``
    is None).
    """
    ours = q_sw("correlation_id", config.correlation_prefix)
    query = f"{ours}^OR{q_is_empty('correlation_id')}" if adopt else ours
    fields = _app_fields(config)
    out = []
    for row in conn.query(config.app_class, query=query, fields=fields):
        cid = row.get("correlation_id", "")
        if cid.startswith(config.correlation_prefix) or (
            not cid and (names is None or row.get("name") in names)
        ):
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
    conn: ServiceNowConnection, config: CmdbConfig, rel_type: str, cis: set[str] | None
) -> Iterator[LinkRow]:
    """The links of ``rel_type`` on ``cis`` (None: on any CI)."""
    intern: dict[str, str] = {}
    fields = ("ci", "user", "type", "sys_created_by")
    # the biggest read by far: once the first page shows more to come, the rest is read in
    # sys_id ranges over the connection's sessions
    for row in conn.query_all(config.link_table, query=q_eq("type", rel_type), fields=fields):
        ci = row.get("ci", "")
        if cis is not None and ci not in cis:
            continue
        user = row.get("user", "")
        creator = row.get("sys_created_by", "")
        yield LinkRow(
            sys_id=row["sys_id"],
            ci=intern.setdefault(ci, ci),
            user=intern.setdefault(user, user),
            created_by=intern.setdefault(creator, creator),
        )
