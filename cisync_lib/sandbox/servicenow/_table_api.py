"""The Table API: ``/api/now/[v1|v2/]table/{table}[/{sys_id}]``."""

from __future__ import annotations

from datetime import timezone, tzinfo
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Response

from cisync_lib import SandboxError

from ._context import SERVICE, Call, Instance
from ._dates import time_zone
from ._http import BadBody, error, json_body, json_response, not_found, parse_int
from ._input import from_display_values
from ._query import Condition, Invalid
from ._schema import Column, Table
from ._shape import Shaper
from ._store import RecordExistsError
from ._tables import baseline_tables

__all__ = ["record", "collection"]

DEFAULT_LIMIT = 10000
#: the longest ``Link`` header sent. Python's http.client refuses a header line over
#: 64 KiB (``http.client.LineTooLong``); four links repeat the query, so a long
#: query would cross it. Longer link sets are left out (pysnc never reads them).
LINK_LIMIT = 32 * 1024
_ACL = "ACL Exception {} Failed due to security constraints"


def _flag(call: Call, name: str, default: str = "false") -> bool:
    return call.request.args.get(name, default).strip().lower() == "true"


def _shaper(instance: Instance, call: Call) -> Shaper:
    args = call.request.args
    fields = args.get("sysparm_fields") or ""
    # an empty sysparm_fields= asks for every field, as on an instance
    names = [f.strip() for f in fields.split(",") if f.strip()] or None
    return Shaper(
        instance.store,
        call.base_url,
        display=args.get("sysparm_display_value", "false").strip().lower(),
        exclude_links=_flag(call, "sysparm_exclude_reference_link"),
        fields=names,
        time_zone=lambda: user_time_zone(instance, call),
    )


def _table_or_error(instance: Instance, table: str, create: bool) -> Response | None:
    """None if the table exists (or was created); else the 400 a real instance answers."""
    store = instance.store
    if store.schema.has(table):
        return None
    if instance.options.unknown_tables == "create" and create:
        try:
            store.add_table(
                Table(table, table, display="name", columns=(Column("name", label="Name"),))
            )
        except SandboxError:
            return error(400, f"Invalid table {table}")
        return None
    return error(400, f"Invalid table {table}")


def _links(call: Call, offset: int, limit: int, total: int) -> str | None:
    args = [(k, v) for k, v in call.request.args.items(multi=True) if k != "sysparm_offset"]
    base = f"{call.request.base_url}?{urlencode(args)}{'&' if args else ''}sysparm_offset="
    step = max(limit, 1)
    links = [f'<{base}0>;rel="first"']
    if offset > 0:
        links.append(f'<{base}{max(0, offset - step)}>;rel="prev"')
    if offset + step < total:
        links.append(f'<{base}{offset + step}>;rel="next"')
    links.append(f'<{base}{max(0, (total - 1) // step * step)}>;rel="last"')
    header = ",".join(links)
    return header if len(header) <= LINK_LIMIT else None


def _list(instance: Instance, call: Call, table: str) -> Response:
    args = call.request.args
    store = instance.store
    limit = parse_int(args.get("sysparm_limit"), DEFAULT_LIMIT)
    offset = parse_int(args.get("sysparm_offset"), 0)
    columns = store.schema.columns(table)
    shorthand = tuple(
        Condition(k, "=", v)
        for k, v in args.items()
        if not k.startswith("sysparm_") and k in columns
    )
    query = args.get("sysparm_query", "")
    zone = user_time_zone(instance, call) if "javascript:" in query.lower() else timezone.utc
    selection = store.select(
        table, query, limit=limit, offset=offset, extra=shorthand, time_zone=zone
    )
    refused = _refusal(instance, selection.invalid)
    if refused is not None:
        return refused
    rows = selection.rows
    hidden = _hidden(instance, table)
    if hidden:  # a read ACL: counted by X-Total-Count, left out of the page
        rows = [row for row in rows if row["sys_id"] not in hidden]
    fault = instance.faults.pick(SERVICE, "GET", call.request.path, {"short_page"})
    if fault is not None and rows:
        gone = set(instance.faults.choose_rows(fault, len(rows)))
        rows = [row for i, row in enumerate(rows) if i not in gone]
        call.info.fault = "short_page"
    headers: list[tuple[str, str]] = []
    if not (instance.options.honour_no_count and _flag(call, "sysparm_no_count")):
        headers.append(("X-Total-Count", str(selection.total)))
    if not _flag(call, "sysparm_suppress_pagination_header"):
        links = _links(call, offset, limit, selection.total)
        if links is not None:
            headers.append(("Link", links))
    return json_response(200, {"result": _shaper(instance, call).shape(table, rows)}, headers)


def _refusal(instance: Instance, invalid: tuple[Invalid, ...]) -> Response | None:
    """The 400 for query parts the sandbox cannot evaluate (or, in strict mode, ignores)."""
    unsupported = [i for i in invalid if i.kind == "unsupported"]
    if unsupported:
        parts = "; ".join(f"{i.part!r}: {i.problem}" for i in unsupported)
        return error(
            400,
            f"The sandbox does not support this query: {parts}",
            "A real instance may evaluate these parts; the sandbox refuses the query "
            "rather than ignore them and return more rows than the instance would.",
        )
    if invalid and instance.options.strict_queries:
        problems = "; ".join(f"{i.part}: {i.problem}" for i in invalid)
        return error(400, "Invalid query", problems)
    return None


def user_time_zone(instance: Instance, call: Call) -> tzinfo:
    """The caller's time zone: ``sys_user.time_zone``, else the instance default."""
    if call.time_zone is None:
        name = instance.store.user_time_zone(call.user.name)
        call.time_zone = time_zone(name, instance.options.time_zone)
    return call.time_zone


def _hidden(instance: Instance, table: str) -> frozenset[str]:
    """The sys_ids ``ServiceNowOptions.read_acl`` hides from reads of ``table``."""
    condition = instance.options.read_acl.get(table)
    if not condition:
        return frozenset()
    return frozenset(row["sys_id"] for row in instance.store.query(table, condition))


def _body(instance: Instance, call: Call, table: str) -> dict[str, Any] | Response:
    if not call.request.get_data().strip():
        # an instance inserts a record of defaults for a bodiless POST (pysnc sends one for
        # a record initialised without values) and changes nothing for a bodiless PATCH
        return {}
    try:
        payload: dict[str, Any] = json_body(call.request)
    except BadBody as exc:
        return error(400, "Exception while reading request", str(exc))
    if _flag(call, "sysparm_input_display_value") and instance.store.schema.has(table):
        return from_display_values(instance.store, table, payload, user_time_zone(instance, call))
    return payload


def _grow(instance: Instance, table: str, payload: dict[str, Any]) -> None:
    """Auto-created tables gain a string column for every new field written to them."""
    if instance.options.unknown_tables != "create" or table in _baseline_names():
        return
    for name in payload:
        try:
            instance.store.add_column(table, name)
        except SandboxError:
            continue


def _baseline_names() -> frozenset[str]:
    return frozenset(t.name for t in baseline_tables())


def collection(instance: Instance, call: Call, table: str) -> Response:
    """GET (list) and POST (insert) on ``/table/{table}``."""
    method = call.request.method
    if method not in ("GET", "POST"):
        return error(405, "Method not Supported", f"{method} is not supported on a table")
    problem = _table_or_error(instance, table, create=True)
    if problem is not None:
        return problem
    if method == "GET":
        return _list(instance, call, table)
    if not call.user.writable:
        return error(403, "Operation Failed", _ACL.format("Insert"))
    payload = _body(instance, call, table)
    if isinstance(payload, Response):
        return payload
    _grow(instance, table, payload)
    try:
        row = instance.store.insert_row(table, payload, user=call.user.name)
    except RecordExistsError:
        return error(
            403, "Operation Failed", f"Error during insert of {table} ({payload.get('sys_id')})"
        )
    except SandboxError as exc:
        return error(400, "Operation Failed", exc.message)
    call.info.writes += 1
    location = f"{call.base_url}/api/now/table/{table}/{row['sys_id']}"
    body = {"result": _shaper(instance, call).shape(table, [row])[0]}
    return json_response(201, body, [("Location", location)])


def record(instance: Instance, call: Call, table: str, sys_id: str) -> Response:
    """GET, PUT, PATCH and DELETE on ``/table/{table}/{sys_id}``."""
    method = call.request.method
    if method not in ("GET", "PUT", "PATCH", "DELETE"):
        return error(405, "Method not Supported", f"{method} is not supported on a record")
    problem = _table_or_error(instance, table, create=False)
    if problem is not None:
        return problem
    store = instance.store
    if method == "GET":
        row = store.get(table, sys_id)
        if row is None or sys_id in _hidden(instance, table):
            return not_found()
        return json_response(200, {"result": _shaper(instance, call).shape(table, [row])[0]})
    if not call.user.writable:
        return error(
            403, "Operation Failed", _ACL.format("Delete" if method == "DELETE" else "Update")
        )
    if method == "DELETE":
        if not store.delete_row(table, sys_id):
            return not_found()
        call.info.writes += 1
        return Response(status=204)
    payload = _body(instance, call, table)
    if isinstance(payload, Response):
        return payload
    _grow(instance, table, payload)
    updated = store.update_row(table, sys_id, payload, user=call.user.name)
    if updated is None:
        return not_found()
    call.info.writes += 1
    return json_response(200, {"result": _shaper(instance, call).shape(table, [updated])[0]})
