"""The Batch API: ``POST /api/now/v1/batch``.

Each ``rest_requests`` item is a relative URL with base64 body and a header
list; items are served in order through the same WSGI handlers as direct
requests (so list GETs carry ``X-Total-Count`` in their header list), as the
same user. Items past the configured item limit or time limit, or picked by an
``unserviced`` fault rule, come back in ``unserviced_requests``.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from ._context import SERVICE, Call, Instance
from ._http import BadBody, error, json_body, json_response

__all__ = ["BATCH_CALL", "batch"]

#: environ key carrying the enclosing :class:`Call` into sub-requests.
BATCH_CALL = "cisync.servicenow.batch_call"

Dispatch = Callable[[dict[str, Any]], Response]


def _sub_environ(call: Call, item: dict[str, Any]) -> dict[str, Any]:
    url = urlsplit(str(item.get("url", "")))
    headers = [
        (str(h.get("name", "")), str(h.get("value", "")))
        for h in item.get("headers") or []
        if isinstance(h, dict) and str(h.get("name", "")).lower() != "content-length"
    ]
    body = item.get("body")
    data = base64.b64decode(str(body), validate=True) if body else b""
    builder = EnvironBuilder(
        path=url.path,
        query_string=url.query,
        method=str(item.get("method", "GET")).upper(),
        headers=headers,
        data=data,
        base_url=call.base_url,
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    environ[BATCH_CALL] = call
    return environ


def _served(
    item_id: str, response: Response, started: float, exclude_headers: bool
) -> dict[str, Any]:
    body = response.get_data()
    served: dict[str, Any] = {
        "id": item_id,
        "status_code": response.status_code,
        "status_text": response.status.partition(" ")[2],
        "headers": []
        if exclude_headers
        else [{"name": k, "value": v} for k, v in response.headers],
        "body": base64.b64encode(body).decode("ascii") if body else "",
        "execution_time": int((time.perf_counter() - started) * 1000),
    }
    if response.status_code >= 400:
        served["error_message"] = response.status
    return served


def batch(instance: Instance, call: Call, dispatch: Dispatch) -> Response:
    """Serve a Batch API call."""
    if call.request.method != "POST":
        return error(405, "Method not Supported", "the Batch API takes POST")
    if call.in_batch:
        return error(400, "Requested URI does not represent any resource", "nested batch")
    try:
        payload: dict[str, Any] = json_body(call.request)
    except BadBody as exc:
        return error(400, "Exception while reading request", str(exc))
    items = payload.get("rest_requests")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return error(400, "Exception while reading request", "rest_requests must be a list")
    options = instance.options
    serviced: list[dict[str, Any]] = []
    unserviced: list[str] = []
    started = time.perf_counter()
    for index, item in enumerate(items):
        item_id = str(item.get("id", index))
        path = urlsplit(str(item.get("url", ""))).path
        method = str(item.get("method", "GET")).upper()
        over_items = options.batch_max_items is not None and index >= options.batch_max_items
        over_time = time.perf_counter() - started > options.batch_time_limit
        if over_items or over_time:
            unserviced.append(item_id)
            continue
        if instance.faults.pick(SERVICE, method, path, {"unserviced"}) is not None:
            call.info.fault = "unserviced"
            unserviced.append(item_id)
            continue
        item_started = time.perf_counter()
        try:
            environ = _sub_environ(call, item)
        except (binascii.Error, ValueError):
            response = error(400, "Exception while reading request", "body is not base64")
        else:
            response = dispatch(environ)
        serviced.append(
            _served(item_id, response, item_started, bool(item.get("exclude_response_headers")))
        )
    call.info.items += len(items)
    return json_response(
        200,
        {
            "batch_request_id": str(payload.get("batch_request_id", "")),
            "serviced_requests": serviced,
            "unserviced_requests": unserviced,
        },
    )
