"""The session every Defender request goes through: trust, proxies, timeouts, retries.

One :class:`requests.Session` per source, never trusting the environment
(``REQUESTS_CA_BUNDLE`` would override ``verify``), with connect and read
timeouts on every request. Retries are urllib3's :class:`~urllib3.util.Retry`
mounted on the session's adapter: it sits below requests, so it sees every
attempt (connection errors, read timeouts, 429/5xx), parses ``Retry-After``
in both of its forms, and adds jittered exponential backoff. The subclass
only caps ``Retry-After`` and makes each retry wait for the rate limiter.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.response import BaseHTTPResponse
from urllib3.util import Retry

from ._config import HttpPolicy
from ._limiter import Limiter

__all__ = ["PolicyRetry", "RoundTrips", "make_retry", "make_session", "redact"]

logger = logging.getLogger(__name__)

_TOKENISH = re.compile(r"(?i)\b(bearer|token)\s+[\w.~+/=-]{8,}|eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*")


def redact(text: str) -> str:
    """Mask anything that looks like a bearer/legacy token or a JWT in ``text``."""
    return _TOKENISH.sub(lambda m: (m.group(1) + " ***") if m.group(1) else "***", text)


class RoundTrips:
    """Thread-safe count of requests that went on the wire, each retry included."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0

    def add(self) -> None:
        """Count one more round trip."""
        with self._lock:
            self._value += 1

    @property
    def value(self) -> int:
        """Round trips so far."""
        return self._value


class PolicyRetry(Retry):
    """urllib3's Retry with a cap on ``Retry-After`` and a rate limiter before each retry.

    The limiter also hears each retried answer, so an adaptive limit slows
    down on a 429 that urllib3 retries without the client ever seeing it.
    """

    retry_after_cap: float = 60.0
    limiter: Limiter | None = None
    counter: RoundTrips | None = None

    def new(self, **kw: Any) -> PolicyRetry:
        made = super().new(**kw)
        made.retry_after_cap = self.retry_after_cap
        made.limiter = self.limiter
        made.counter = self.counter
        return made

    def increment(self, *args: Any, **kwargs: Any) -> PolicyRetry:
        made = super().increment(*args, **kwargs)  # raises when the retries are spent
        if self.counter is not None:
            self.counter.add()  # one more attempt goes on the wire
        return made

    def parse_retry_after(self, retry_after: str) -> float:
        # a server asking for an hour would stall the whole sync; cap it
        return min(super().parse_retry_after(retry_after), self.retry_after_cap)

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        status = response.status if response is not None else "an error"
        logger.debug("retrying after %s (%d retries so far)", status, len(self.history))
        if self.limiter is not None:
            if response is not None:
                wait = self.get_retry_after(response)
                self.limiter.record(response.status, retry_after=wait, kind="retried")
            self.limiter.release()  # the attempt that failed has its answer
        super().sleep(response)
        if self.limiter is not None:
            self.limiter.acquire()  # a retry spends the same request budget


def make_retry(policy: HttpPolicy, limiter: Limiter | None = None) -> PolicyRetry:
    """The retry policy of ``policy`` as a urllib3 Retry."""
    retry = PolicyRetry(
        total=policy.retries,
        connect=policy.retries,
        read=policy.retries,
        status=policy.retries,
        other=0,  # TLS and protocol errors will not get better by retrying
        redirect=0,
        allowed_methods=frozenset({"GET", "POST"}),  # every request we send is a read
        status_forcelist=policy.retry_statuses,
        backoff_factor=policy.backoff_factor,
        backoff_max=policy.backoff_max,
        backoff_jitter=policy.backoff_jitter,
        respect_retry_after_header=True,
        raise_on_status=False,  # hand back the last response; we raise a named error
    )
    retry.retry_after_cap = policy.retry_after_max
    retry.limiter = limiter
    return retry


class _TimeoutSession(requests.Session):
    """A session that applies a default ``(connect, read)`` timeout to every request."""

    def __init__(self, timeout: tuple[float, float]) -> None:
        super().__init__()
        self.default_timeout = timeout
        self.round_trips = RoundTrips()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().send(request, **kwargs)


class _CountingAdapter(HTTPAdapter):
    """Counts each request handed to urllib3 (its retries are counted by the Retry)."""

    def __init__(self, counter: RoundTrips, **kwargs: Any) -> None:
        self._round_trips = counter
        super().__init__(**kwargs)

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        self._round_trips.add()
        return super().send(request, **kwargs)


def make_session(
    policy: HttpPolicy,
    *,
    verify: bool | str,
    proxies: Mapping[str, str],
    limiter: Limiter | None = None,
) -> _TimeoutSession:
    """A session with our timeouts, retries, TLS trust and proxies (never the environment's)."""
    session = _TimeoutSession(policy.timeout)
    session.trust_env = False  # REQUESTS_CA_BUNDLE and *_PROXY must not override the caller
    session.verify = verify
    session.proxies = dict(proxies)
    retry = make_retry(policy, limiter)
    retry.counter = session.round_trips
    adapter = _CountingAdapter(
        session.round_trips, max_retries=retry, pool_maxsize=max(10, 2 * policy.concurrency)
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers.update({"User-Agent": policy.user_agent, "Accept": "application/json"})
    return session
