"""The WSGI middleware wrapped around every service: request log, fault injection and the gate.

Services stay unaware of both, except for two fault kinds only they can apply
(``short_page``, ``unserviced``), for which they ask the injector themselves,
and the counts they report through :class:`~cisync_lib.sandbox.RequestInfo`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from typing import Any

from ._faults import FaultInjector, FaultRule
from ._gate import TransactionGate
from ._log import INFO_KEY, RequestInfo, RequestLog, RequestRecord
from ._server import DropConnection, WsgiApp

__all__ = ["ErrorBody", "ServiceMiddleware"]

logger = logging.getLogger(__name__)

#: builds a service's own error body: (status, message) -> (body, content type).
ErrorBody = Callable[[int, str], tuple[bytes, str]]

_REASONS = {
    200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request",
    401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    408: "Request Timeout",
    413: "Payload Too Large", 429: "Too Many Requests", 500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}  # fmt: skip

_MIDDLEWARE_KINDS = ("status", "drop", "slow", "malformed")


def status_line(status: int) -> str:
    """``"503 Service Unavailable"`` for 503."""
    return f"{status} {_REASONS.get(status, 'Status')}"


def _cut(body: bytes) -> Iterator[bytes]:
    half = len(body) // 2
    if half:
        yield body[:half]
    raise DropConnection


def _set_length(headers: list[tuple[str, str]], length: int) -> list[tuple[str, str]]:
    kept = [(k, v) for k, v in headers if k.lower() != "content-length"]
    return [*kept, ("Content-Length", str(length))]


class ServiceMiddleware:
    """Log every request of one service and inject the faults its rules ask for.

    Args:
        service: the service name recorded in the log and matched by fault rules.
        app: the service's WSGI application.
        log: the sandbox's request log.
        faults: the sandbox's fault injector.
        stopping: set when the sandbox closes; cuts injected waits short.
        error_body: builds the service's error body for injected ``status`` faults.
        gate: admits each request (session synchronisation, transaction pool), if any.
    """

    def __init__(
        self,
        service: str,
        app: WsgiApp,
        *,
        log: RequestLog,
        faults: FaultInjector,
        stopping: threading.Event,
        error_body: ErrorBody,
        gate: TransactionGate | None = None,
    ) -> None:
        self.service = service
        self.app = app
        self.log = log
        self.faults = faults
        self.stopping = stopping
        self.error_body = error_body
        self.gate = gate

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        arrived = time.time()
        started = time.perf_counter()
        info = RequestInfo()
        environ[INFO_KEY] = info
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        path = str(environ.get("PATH_INFO", ""))
        admitted = self.gate.admit(environ) if self.gate is not None else nullcontext(None)
        # injected latency counts as the instance's own time: it runs inside the gate, so
        # requests of one session (or beyond the transaction pool) wait for it too
        with admitted as ticket:
            if ticket is not None and ticket.refused is not None:
                latency: tuple[FaultRule, ...] = ()
                rule = None
                status, headers, body = self._refusal(*ticket.refused)
            else:
                latency = self.faults.pick_all(self.service, method, path, "latency")
                for slow_down in latency:
                    self.stopping.wait(slow_down.delay)
                rule = self.faults.pick(self.service, method, path, _MIDDLEWARE_KINDS)
                if rule is not None and rule.kind == "status":
                    status, headers, body = self._status_fault(rule)
                else:
                    status, headers, body = self._serve(environ)
            if ticket is not None:
                headers = [*headers, *ticket.headers]
        sent = body
        if rule is not None and rule.kind == "malformed":
            sent = body[: len(body) // 2] or b"{"
            headers = _set_length(headers, len(sent))
        # logged before the slow wait, so a client that timed out already sees the record
        slow = rule.delay if rule is not None and rule.kind == "slow" else 0.0
        fault = rule.kind if rule is not None else info.fault or ("latency" if latency else None)
        self.log.append(
            RequestRecord(
                service=self.service,
                method=method,
                path=path,
                query=str(environ.get("QUERY_STRING", "")),
                status=int(status.split(" ", 1)[0]),
                duration_ms=(time.perf_counter() - started + slow) * 1000.0,
                request_bytes=int(environ.get("CONTENT_LENGTH") or 0),
                response_bytes=len(body),
                fault=fault,
                items=info.items,
                writes=info.writes,
                user=info.user,
                at=arrived,
            )
        )
        if slow:
            self.stopping.wait(slow)
        start_response(status, headers)
        if rule is not None and rule.kind == "drop":
            return _cut(sent)
        return [sent]

    def _refusal(self, status: int, message: str) -> tuple[str, list[tuple[str, str]], bytes]:
        body, content_type = self.error_body(status, message)
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        return status_line(status), headers, body

    def _status_fault(self, rule: FaultRule) -> tuple[str, list[tuple[str, str]], bytes]:
        body, content_type = self.error_body(rule.status, f"Injected fault: HTTP {rule.status}")
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        if rule.retry_after is not None:
            headers.append(("Retry-After", str(rule.retry_after)))
        return status_line(rule.status), headers, body

    def _serve(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, list(headers)
            return lambda data: None

        try:
            result = self.app(environ, capture)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            logger.exception("sandbox service %s failed", self.service)
            body, content_type = self.error_body(500, "Internal sandbox error")
            return status_line(500), [("Content-Type", content_type)], body
        return str(captured["status"]), _set_length(captured["headers"], len(body)), body
