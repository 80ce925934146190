"""The sandbox's legacy Defender for Cloud Apps REST API (discovery streams and apps).

Served under both ``/api/`` and ``/cas/api/``, as tenants use both prefixes.
Authentication is the legacy ``Authorization: Token <key>`` (or an Entra token
for the Cloud App Security resource); the tenant-wide limit of 30 requests per
minute is enforced with 429; responses hold at most 100 items.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from werkzeug.wrappers import Request, Response

from cisync_lib.sandbox._server import WsgiApp
from cisync_lib.sandbox._service import SandboxContext

from ._http import json_response, request_info, serve
from ._mdca_apps import LegacyError, discovered_apps, legacy_stream
from ._tokens import MDCA_APP_ID, TokenAuthority, TokenProblem

__all__ = ["MdcaService", "SlidingWindow"]

_PREFIXES = ("/api/", "/cas/api/")


class SlidingWindow:
    """At most ``limit`` events in any ``window`` seconds (thread-safe)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Record an event and return 0, or return the seconds until one is allowed."""
        with self._lock:
            now = time.monotonic()
            while self._times and self._times[0] <= now - self.window:
                self._times.popleft()
            if len(self._times) >= self.limit:
                return self._times[0] + self.window - now
            self._times.append(now)
            return 0.0


class MdcaService:
    """The ``mdca`` sandbox service.

    Args:
        context: what the sandbox gives every service.
    """

    name = "mdca"

    def __init__(self, context: SandboxContext) -> None:
        options = context.config.defender
        seed = context.secret("mdca_token_seed")
        self.token = options.mdca_token or hashlib.sha256(seed.encode()).hexdigest()
        self.tenant = context.tenant()
        tokens = getattr(context.services.get("entra"), "tokens", None)
        self.tokens = tokens if isinstance(tokens, TokenAuthority) else None
        self.page_limit = options.mdca_page_limit
        limit = options.mdca_rate_limit
        self.limiter = SlidingWindow(limit, options.mdca_rate_window) if limit else None
        self.faults = context.faults

    # --- SandboxService -----------------------------------------------------------

    def wsgi_app(self) -> WsgiApp:
        """The legacy API's WSGI application."""
        return serve(self._handle)

    def error_body(self, status: int, message: str) -> tuple[bytes, str]:
        """The legacy API's error JSON for injected faults."""
        response = json_response({"detail": message}, status)
        return response.get_data(), response.content_type or "application/json"

    def connection_info(self, url: str) -> Mapping[str, str]:
        """The API base URL (``.../api``) and its token."""
        return {"mdca_url": f"{url}/api", "mdca_token": self.token}

    def close(self) -> None:
        """Nothing to release."""

    # --- the application ----------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        path = request.path
        prefix = next((p for p in _PREFIXES if path.startswith(p)), None)
        route = path[len(prefix) :] if prefix else ""
        try:
            self._authenticate(request)
            self._throttle()
            if route == "discovery/streams/":
                _method(request, "GET")
                streams = self.tenant.streams if self.tenant else ()
                return json_response({"streams": [legacy_stream(s) for s in streams]})
            if route == "v1/discovery/discovered_apps/":
                _method(request, "POST")
                body = discovered_apps(self.tenant, request, self.page_limit, self._short_page)
                request_info(request).items = len(body["data"])
                return json_response(body)
            raise LegacyError(404, "Not found.")
        except LegacyError as exc:
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
            return json_response({"detail": exc.detail}, exc.status, headers)

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        scheme, _, credential = header.partition(" ")
        credential = credential.strip()
        if not header:
            raise LegacyError(401, "Authentication credentials were not provided.")
        if scheme == "Token" and hmac.compare_digest(credential.encode(), self.token.encode()):
            request_info(request).user = "api-token"
            return
        if scheme.lower() == "bearer" and self.tokens is not None:
            try:
                claims = self.tokens.verify(credential, (MDCA_APP_ID,))
            except TokenProblem as exc:
                raise LegacyError(401, "Invalid token.") from exc
            if "Discovery.read" not in claims.get("roles", ()):
                raise LegacyError(403, "You do not have permission to perform this action.")
            request_info(request).user = str(claims.get("appid", ""))
            return
        raise LegacyError(401, "Invalid token.")

    def _throttle(self) -> None:
        if self.limiter is None:
            return
        wait = self.limiter.acquire()
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise LegacyError(
                429, f"Request was throttled. Expected available in {seconds} seconds.", seconds
            )

    def _short_page(self, request: Request, page: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rule = self.faults.pick(self.name, request.method, request.path, {"short_page"})
        if rule is None or len(page) < 2:
            return page
        request_info(request).fault = "short_page"
        drop = min(rule.rows or max(1, len(page) // 2), len(page) - 1)
        return page[: len(page) - drop]


def _method(request: Request, allowed: str) -> None:
    if request.method != allowed:
        raise LegacyError(405, f'Method "{request.method}" not allowed.')
