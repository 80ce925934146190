"""The Attachment API: ``/api/now/[v1/]attachment[/{sys_id}[/file]]``, ``/file`` and ``/upload``.

Metadata lives in ``sys_attachment`` and the content, base64-encoded, in
``sys_attachment_doc`` (one chunk per attachment; an instance uses several), so
both can be read through the Table API as on an instance. Lists and single
reads go through the Table API's own handlers (queries, paging, display
values, refusals), with ``download_link`` added to each record.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from werkzeug.wrappers import Response

from ._context import Call, Instance
from ._http import error, json_response, not_found
from ._table_api import collection, record

__all__ = ["ATTACHMENT_TABLES", "attachment_file", "attachments", "upload"]

#: the tables behind the API (metadata, content).
ATTACHMENT_TABLES = ("sys_attachment", "sys_attachment_doc")
_ACL = "ACL Exception Insert Failed due to security constraints"


def _with_links(call: Call, response: Response) -> Response:
    """Add ``download_link`` to the record(s) of a Table API answer on sys_attachment."""
    if response.status_code != 200 or not response.is_json:
        return response
    body: dict[str, Any] = json.loads(response.get_data())
    result = body.get("result")
    for item in result if isinstance(result, list) else [result]:
        if isinstance(item, dict) and "sys_id" in item:
            sys_id = item["sys_id"]
            value = sys_id.get("value") if isinstance(sys_id, dict) else sys_id
            item["download_link"] = f"{call.base_url}/api/now/attachment/{value}/file"
    response.set_data(json.dumps(body))
    return response


def attachments(instance: Instance, call: Call, sys_id: str | None) -> Response:
    """GET (list or one) and DELETE (one) on ``/attachment[/{sys_id}]``."""
    if sys_id is None:
        if call.request.method != "GET":
            return error(405, "Method not Supported", f"{call.request.method} on /attachment")
        return _with_links(call, collection(instance, call, "sys_attachment"))
    if call.request.method not in ("GET", "DELETE"):
        return error(405, "Method not Supported", f"{call.request.method} on an attachment")
    return _with_links(call, record(instance, call, "sys_attachment", sys_id))


def attachment_file(instance: Instance, call: Call, sys_id: str) -> Response:
    """GET ``/attachment/{sys_id}/file``: the content, with its content type."""
    if call.request.method != "GET":
        return error(405, "Method not Supported", "use GET")
    store = instance.store
    meta = store.get("sys_attachment", sys_id)
    if meta is None:
        return not_found()
    chunks = store.select(
        "sys_attachment_doc", f"sys_attachment={meta['sys_id']}^ORDERBYposition"
    ).rows
    content = b"".join(base64.b64decode(c["data"]) for c in chunks)
    headers = {
        "Content-Type": meta["content_type"] or "application/octet-stream",
        "X-Attachment-Metadata": json.dumps({k: meta[k] for k in ("sys_id", "file_name")}),
    }
    return Response(content, status=200, headers=headers)


def _store_file(
    instance: Instance, call: Call, params: dict[str, str], content: bytes, content_type: str
) -> Response:
    if not call.user.writable:
        return error(403, "Operation Failed", _ACL)
    missing = [k for k in ("table_name", "table_sys_id", "file_name") if not params.get(k)]
    if missing:
        return error(400, "Missing parameters", f"{', '.join(missing)} must be given")
    store = instance.store
    table, target = params["table_name"], params["table_sys_id"]
    if not store.schema.has(table):
        return error(400, f"Invalid table {table}")
    if store.get(table, target) is None:
        return error(400, "Invalid table_sys_id", f"no {table} record {target}")
    user = call.user.name
    with store.lock:
        row = store.insert_row(
            "sys_attachment",
            {
                "file_name": params["file_name"], "content_type": content_type,
                "size_bytes": str(len(content)), "size_compressed": str(len(content)),
                "compressed": "false", "table_name": table, "table_sys_id": target,
                "hash": hashlib.sha256(content).hexdigest(), "state": "available",
            },
            user=user,
        )  # fmt: skip
        store.insert_row(
            "sys_attachment_doc",
            {
                "sys_attachment": row["sys_id"], "position": "0", "length": str(len(content)),
                "data": base64.b64encode(content).decode("ascii"),
            },
            user=user,
        )  # fmt: skip
    call.info.writes += 1
    body = dict(row, download_link=f"{call.base_url}/api/now/attachment/{row['sys_id']}/file")
    location = f"{call.base_url}/api/now/v1/attachment/{row['sys_id']}/file"
    return json_response(201, {"result": body}, [("Location", location)])


def upload(instance: Instance, call: Call, multipart: bool) -> Response:
    """POST ``/attachment/file`` (raw body, parameters in the URL) or ``/upload`` (multipart)."""
    request = call.request
    if request.method != "POST":
        return error(405, "Method not Supported", "use POST")
    if not multipart:
        params = {k: request.args.get(k, "") for k in ("table_name", "table_sys_id", "file_name")}
        content_type = request.headers.get("Content-Type") or "application/octet-stream"
        return _store_file(instance, call, params, request.get_data(), content_type)
    files = list(request.files.values())
    try:
        if len(files) != 1:
            return error(400, "Bad request", "a multipart upload carries exactly one file part")
        part = files[0]
        params = {
            "table_name": request.form.get("table_name", ""),
            "table_sys_id": request.form.get("table_sys_id", ""),
            "file_name": part.filename or "",
        }
        content_type = part.mimetype or "application/octet-stream"
        return _store_file(instance, call, params, part.read(), content_type)
    finally:
        for part in files:  # werkzeug spools large parts to temporary files
            part.close()
