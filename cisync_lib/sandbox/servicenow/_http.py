"""Response helpers shared by the ServiceNow handlers: JSON bodies and ServiceNow's error shape."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

__all__ = [
    "JSON",
    "error",
    "error_bytes",
    "json_body",
    "json_response",
    "not_found",
    "parse_int",
]

JSON = "application/json;charset=UTF-8"


def json_response(status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> Response:
    """A JSON response (compact, as ServiceNow sends it)."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Response(body, status=status, headers=list(headers), content_type=JSON)


def error_bytes(message: str, detail: str | None = None) -> bytes:
    """ServiceNow's error body: ``{"error": {"message", "detail"}, "status": "failure"}``."""
    payload = {"error": {"message": message, "detail": detail}, "status": "failure"}
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def error(
    status: int, message: str, detail: str | None = None, headers: Iterable[tuple[str, str]] = ()
) -> Response:
    """An error response in ServiceNow's shape."""
    return Response(
        error_bytes(message, detail), status=status, headers=list(headers), content_type=JSON
    )


def not_found() -> Response:
    """The 404 a live instance answers for a missing sys_id."""
    return error(
        404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval"
    )


class BadBody(Exception):
    """The request body is not the JSON object expected."""


def json_body(request: Request, *, expect: type = dict) -> Any:
    """The request body parsed as JSON of type ``expect`` (BadBody otherwise)."""
    raw = request.get_data()
    if not raw.strip():
        raise BadBody("The request body is empty.")
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        raise BadBody(f"The payload is not valid JSON: {exc}") from exc
    if not isinstance(payload, expect):
        raise BadBody(f"Expected a JSON {'object' if expect is dict else expect.__name__}.")
    return payload


def parse_int(text: str | None, default: int) -> int:
    """An integer query parameter; missing, malformed or negative values give ``default``."""
    try:
        value = int(text) if text is not None else default
    except ValueError:
        return default
    return value if value >= 0 else default
