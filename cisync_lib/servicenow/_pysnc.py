"""The one module that imports pysnc: Table API reads and single-record writes.

Rules followed here (see docs/dev and the pysnc reference):

* a new ``GlideRecord`` for every query (``query()`` appends to earlier
  results and a failed ``get()`` keeps the previous row);
* lean reads: ``fields``, ``display_value=False``, no reference links;
* one GET per page: rows are taken with ``has_next()``/``next()`` so pysnc's
  own offset paging never runs (the connection pages by sys_id instead);
* pysnc's exceptions, and the requests exceptions it lets through, become
  :class:`~cisync_lib.ServiceNowAuthError` / :class:`~cisync_lib.ServiceNowRequestError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

import pysnc
import requests
from pysnc import exceptions as snc_exc

from cisync_lib.errors import CisyncError, ServiceNowAuthError, ServiceNowRequestError

from ._http import network_detail

__all__ = [
    "Row",
    "delete_record",
    "get_record",
    "insert_record",
    "make_client",
    "read_page",
    "update_record",
]

Row = dict[str, str]
#: reports the status and error text of the last response this thread received
LastResponse = Callable[[], tuple[int | None, str]]

_WRITES = frozenset({"insert", "update", "delete"})
_TOO_MANY = re.compile(r"too many (\d{3}) error")


def make_client(instance_url: str, session: requests.Session) -> Any:
    """A pysnc client over our session; ``auto_retry=False`` keeps our adapter mounted."""
    return pysnc.ServiceNowClient(instance_url, auth=session, auto_retry=False)


def _row(gr: Any) -> Row:
    data = gr.serialize(display_value=False) or {}
    return {str(k): "" if v is None else str(v) for k, v in data.items()}


def _record(client: Any, table: str, fields: Sequence[str], batch_size: int = 1) -> Any:
    gr = client.GlideRecord(table, batch_size=batch_size, rewindable=False)
    if fields:
        gr.fields = list(fields)  # pysnc inserts sys_id into the list it is given: pass a copy
    gr.display_value = False
    gr.exclude_reference_link = True
    return gr


def read_page(
    client: Any,
    table: str,
    query: str,
    fields: Sequence[str],
    limit: int,
    last: LastResponse,
) -> tuple[list[Row], int]:
    """One GET of at most ``limit`` rows ordered by sys_id.

    Returns:
        the rows and ``X-Total-Count`` (all rows matching ``query``).
    """
    gr = _record(client, table, fields, batch_size=limit)
    if query:
        gr.add_encoded_query(query)
    try:
        gr.query()  # pysnc appends ORDERBYsys_id
        rows: list[Row] = []
        while gr.has_next():
            gr.next()
            rows.append(_row(gr))
        total = int(gr.get_row_count() or 0)
    except Exception as exc:  # translated below, never swallowed
        _raise(exc, "query", table, None, client.instance, last)
    return rows, total


def get_record(
    client: Any, table: str, sys_id: str, fields: Sequence[str], last: LastResponse
) -> Row | None:
    """GET one record; None when the instance answers 404."""
    gr = _record(client, table, fields)
    try:
        found = gr.get(sys_id)
        return _row(gr) if found else None
    except Exception as exc:
        _raise(exc, "get", table, sys_id, client.instance, last)


def insert_record(client: Any, table: str, values: Mapping[str, str], last: LastResponse) -> Row:
    """POST one record (a ``sys_id`` in ``values`` is sent, making the insert idempotent)."""
    gr = _record(client, table, ())
    gr.initialize()
    for name, value in values.items():
        gr.set_value(name, value)
    try:
        sys_id = gr.insert()
        row = _row(gr)
    except Exception as exc:
        _raise(exc, "insert", table, values.get("sys_id"), client.instance, last)
    row["sys_id"] = str(sys_id or row.get("sys_id", ""))
    return row


def update_record(
    client: Any, table: str, sys_id: str, values: Mapping[str, str], last: LastResponse
) -> Row:
    """PATCH the given fields of one record, without reading it first."""
    gr = _record(client, table, ())
    gr.initialize()
    gr.set_value("sys_id", sys_id)  # a freshly set element is not "changed": not in the body
    for name, value in values.items():
        # set twice: pysnc only sends elements whose value changed after creation
        gr.set_value(name, None)
        gr.set_value(name, value)
    try:
        gr.update()
        return _row(gr)
    except Exception as exc:
        _raise(exc, "update", table, sys_id, client.instance, last)


def delete_record(client: Any, table: str, sys_id: str, last: LastResponse) -> None:
    """DELETE one record."""
    gr = _record(client, table, ())
    gr.initialize()
    gr.set_value("sys_id", sys_id)
    try:
        gr.delete()
    except Exception as exc:
        _raise(exc, "delete", table, sys_id, client.instance, last)


def _detail(exc: BaseException) -> str:
    for arg in exc.args:
        if isinstance(arg, Mapping):
            err = arg.get("error", arg)
            if isinstance(err, Mapping):
                parts = [str(err[k]) for k in ("message", "detail") if err.get(k)]
                if parts:
                    return ": ".join(parts)
            return str(err)[:300]
        if isinstance(arg, str) and arg:
            return arg[:300]
    return type(exc).__name__


def _instance_host(exc: requests.RequestException) -> str:
    """The host a failed request went to, when requests knows it."""
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None) or ""
    return url.split("/")[2] if url.count("/") >= 2 else "the instance"


def _sent(exc: requests.RequestException) -> bool:
    """Whether the request may have reached the server before ``exc``."""
    if isinstance(exc, (requests.ConnectTimeout, requests.exceptions.SSLError)):
        return False
    reason = exc.args[0] if exc.args else None
    text = repr(reason)
    # urllib3 NewConnectionError / NameResolutionError: nothing was sent
    return not ("NewConnectionError" in text or "NameResolutionError" in text)


def _raise(
    exc: BaseException,
    operation: str,
    table: str,
    sys_id: str | None,
    instance: str,
    last: LastResponse,
) -> NoReturn:
    """Translate ``exc`` (from pysnc or requests) into a CisyncError and raise it."""
    if isinstance(exc, CisyncError):
        raise exc  # already ours (e.g. a token refused by the OAuth endpoint)
    status, text = last()
    if isinstance(exc, snc_exc.AuthenticationException | snc_exc.RoleException):
        code = 403 if isinstance(exc, snc_exc.RoleException) else 401
        raise ServiceNowAuthError(instance=instance, status=code, detail=_detail(exc)) from exc
    if isinstance(exc, snc_exc.NotFoundException):
        raise ServiceNowRequestError(
            operation=operation, table=table, sys_id=sys_id, status=404, detail=_detail(exc)
        ) from exc
    if isinstance(exc, snc_exc.RestException):  # Insert/Update/DeleteException carry a status
        raise ServiceNowRequestError(
            operation=operation,
            table=table,
            sys_id=sys_id,
            status=exc.status_code or status,
            detail=_detail(exc),
        ) from exc
    if isinstance(exc, snc_exc.RequestException):
        raise ServiceNowRequestError(
            operation=operation, table=table, sys_id=sys_id, status=status, detail=_detail(exc)
        ) from exc
    if isinstance(exc, requests.exceptions.RetryError):
        found = _TOO_MANY.search(str(exc))
        raise ServiceNowRequestError(
            operation=operation,
            table=table,
            sys_id=sys_id,
            status=int(found.group(1)) if found else status,
            detail="gave up after retries",
        ) from exc
    if isinstance(exc, requests.RequestException):
        unknown = operation in _WRITES and _sent(exc)
        raise ServiceNowRequestError(
            operation=operation,
            table=table,
            sys_id=sys_id,
            status=None,
            detail=network_detail(exc, _instance_host(exc)),
            outcome_unknown=unknown,
        ) from exc
    if isinstance(exc, (KeyError, ValueError, TypeError)):
        # a malformed response (no X-Total-Count, non-JSON body, missing "result")
        raise ServiceNowRequestError(
            operation=operation,
            table=table,
            sys_id=sys_id,
            status=status,
            detail=f"malformed response ({type(exc).__name__}: {exc}) {text}".strip(),
        ) from exc
    raise exc
