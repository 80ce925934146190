"""Small WSGI helpers shared by the sandbox's Defender services."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from werkzeug.wrappers import Request, Response

from cisync_lib.sandbox._log import INFO_KEY, RequestInfo

__all__ = ["JSON", "json_response", "new_id", "request_info", "serve", "utc_now_text"]

JSON = "application/json; charset=utf-8"


def new_id() -> str:
    """A fresh GUID, as Microsoft services use for request and correlation ids."""
    return str(uuid.uuid4())


def utc_now_text() -> str:
    """The current time as Microsoft writes it in error bodies (``2025-01-06T10:11:12``)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def json_response(
    body: object,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    content_type: str = JSON,
) -> Response:
    """A JSON response (compact separators, like the real services)."""
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Response(data, status=status, headers=dict(headers or {}), content_type=content_type)


def request_info(request: Request) -> RequestInfo:
    """The request-log record the sandbox middleware attached (a dummy outside it)."""
    found: Any = request.environ.get(INFO_KEY)
    if isinstance(found, RequestInfo):
        return found
    info = RequestInfo()
    request.environ[INFO_KEY] = info
    return info


def serve(
    handler: Callable[[Request], Response],
) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """Turn ``handler(request) -> response`` into a WSGI application."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        response = handler(Request(environ))
        result: Iterable[bytes] = response(environ, start_response)
        return result

    return app
