"""The connection's :class:`requests.Session`: trust, timeouts, retries and counting.

pysnc has no timeouts and, with ``auto_retry=True``, mounts its own adapter
over ours. So the connection builds the session itself and hands it to pysnc
with ``auto_retry=False``: an :class:`_TimeoutAdapter` mounted on the instance
prefix gives every request a (connect, read) timeout and a
:class:`urllib3.util.Retry` that retries only idempotent methods (never POST
or PATCH, whose outcome after a timeout must be settled by re-reading).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

logger = logging.getLogger(__name__)

__all__ = ["THROTTLE_STATUSES", "Counter", "build_session"]

#: statuses worth retrying on idempotent calls; 500 is not (inspect it, do not repeat it)
RETRY_STATUSES = frozenset({429, 502, 503, 504})


def network_detail(exc: requests.RequestException, host: str = "the instance") -> str:
    """One line for a connection-level failure: the cause in words, never a bare class name."""
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return (
            f"certificate verify failed for {host}: its certificate is not signed by a CA "
            "this machine trusts; set ca_bundle in the destination (a PEM file with the CA "
            "that signed it)"
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return f"TLS handshake with {host} failed; check instance_url, proxies and ca_bundle"
    if isinstance(exc, requests.Timeout) or "timed out" in text:
        return f"no answer from {host} in time (timeout); check instance_url, firewall, proxies"
    if any(s in text for s in ("NameResolutionError", "Name or service not known", "getaddrinfo")):
        return f"the host name {host} does not resolve; check instance_url and DNS or proxies"
    if "Connection refused" in text or "[Errno 111]" in text:
        return f"{host} refused the connection; check instance_url and its port"
    return f"network failure talking to {host} ({type(exc).__name__}); check instance_url, proxies"


class Counter:
    """Thread-safe round-trip counter shared by the adapter and the retry policy."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0

    def add(self, n: int = 1) -> None:
        """Count ``n`` more round trips."""
        with self._lock:
            self._value += n

    @property
    def value(self) -> int:
        """Round trips so far."""
        return self._value


#: answers meaning "the instance is throttling or too busy": counted for the run report
THROTTLE_STATUSES = frozenset({429, 503})


class _CountingRetry(Retry):
    """A Retry that counts each extra attempt (and throttled answers) and caps ``Retry-After``."""

    counter: Counter | None = None
    throttled: Counter | None = None
    max_retry_after: float = 60.0

    def new(self, **kw: Any) -> _CountingRetry:
        retry = super().new(**kw)
        retry.counter = self.counter
        retry.throttled = self.throttled
        retry.max_retry_after = self.max_retry_after
        return retry

    def increment(self, *args: Any, **kwargs: Any) -> _CountingRetry:
        response = kwargs.get("response", args[2] if len(args) > 2 else None)
        if self.throttled is not None and getattr(response, "status", None) in THROTTLE_STATUSES:
            self.throttled.add()  # answered, then retried here: requests never sees it
        retry = super().increment(*args, **kwargs)  # raises when exhausted
        if self.counter is not None:
            self.counter.add()  # one more attempt will go on the wire
        return retry

    def get_retry_after(self, response: Any) -> float | None:
        # an instance answering "Retry-After: 3600" must not freeze a sync for an hour
        value = super().get_retry_after(response)
        return None if value is None else min(value, self.max_retry_after)


class _TimeoutAdapter(HTTPAdapter):
    """Applies a default timeout (pysnc passes none) and counts round trips."""

    def __init__(self, *, timeout: tuple[float, float], counter: Counter, retry: Retry) -> None:
        self._timeout = timeout
        self._counter = counter
        super().__init__(max_retries=retry)

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        self._counter.add()
        return super().send(request, **kwargs)


def build_session(
    instance_url: str,
    *,
    verify: bool | str,
    timeout: tuple[float, float],
    proxies: Mapping[str, str] | None,
    counter: Counter,
    throttled: Counter | None = None,
    retries: int,
    backoff: float,
    max_retry_after: float,
) -> requests.Session:
    """A session that ignores the environment, verifies as told and never hangs.

    Args:
        instance_url: the instance base URL (the adapter is mounted on it).
        verify: ``True`` for the system trust store or a CA bundle path.
        timeout: (connect, read) seconds for every request.
        proxies: explicit proxies, or None for a direct connection.
        counter: counts every round trip, including retries.
        throttled: counts 429 and 503 answers that the retry policy retried.
        retries: retries of idempotent requests (GET, PUT, DELETE, ...).
        backoff: urllib3 backoff factor (seconds), with jitter.
        max_retry_after: cap on an honoured ``Retry-After``, in seconds.
    """
    session = requests.Session()
    # REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE / *_PROXY must not override what the caller set
    session.trust_env = False
    session.verify = verify
    session.proxies = dict(proxies or {})
    session.headers["Accept"] = "application/json"
    retry = _CountingRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        allowed_methods=Retry.DEFAULT_ALLOWED_METHODS,  # never POST or PATCH
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff,
        backoff_jitter=backoff,
        raise_on_status=True,
        respect_retry_after_header=True,
    )
    retry.counter = counter
    retry.throttled = throttled
    retry.max_retry_after = max_retry_after
    session.mount(instance_url, _TimeoutAdapter(timeout=timeout, counter=counter, retry=retry))
    session.hooks["response"].append(_log_response)
    return session


def _log_response(response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
    """DEBUG: one line per answer with the instance's transaction id (``cisync --debug``).

    Only the method, the path and the status: never headers (credentials) and never
    the query string (it can hold people's names and emails).
    """
    if logger.isEnabledFor(logging.DEBUG):
        request = response.request
        logger.debug(
            "%s %s -> %d in %.0f ms (transaction %s)",
            request.method,
            urlsplit(request.url or "").path,
            response.status_code,
            response.elapsed.total_seconds() * 1000,
            response.headers.get("X-Transaction-ID") or response.headers.get("X-Request-ID", "-"),
        )
