"""The one HTTP policy: every session cisync_lib opens, for every service, is built here.

ServiceNow (Table API through pysnc, Batch API, OAuth tokens), Microsoft Graph,
the legacy Defender for Cloud Apps API and Entra ID (through msal) all get a
:class:`requests.Session` from :func:`build_session`, so that:

* the environment is never trusted (``trust_env=False``): ``REQUESTS_CA_BUNDLE``,
  ``CURL_CA_BUNDLE`` and ``*_PROXY`` would otherwise override the caller's
  ``verify`` and proxies;
* every request has a (connect, read) timeout, even when the library sending it
  (pysnc, msal) passes none;
* retries are one :class:`urllib3.util.Retry` subclass, :class:`PolicyRetry`,
  mounted on the session's adapter: below requests, it sees every attempt
  (connection errors, read timeouts, the retried statuses) and adds jittered
  exponential backoff;
* ``Retry-After`` is read in one place, :meth:`PolicyRetry.parse_retry_after`:
  urllib3's reading of both forms (seconds, HTTP date), capped at the
  connection's ``max_retry_after`` (a server asking for an hour must not stall a
  sync). Answers urllib3 never retries itself (an inner answer of a Graph
  ``$batch``, a ServiceNow Batch API call, which is a POST) are read with
  :meth:`PolicyRetry.retry_after`, which goes through the same method;
* every wait goes through :meth:`PolicyRetry.pause`, so tests can record waits
  instead of sleeping.

What differs between services is data, in a :class:`SessionPolicy`: which
methods and statuses are retried, the caps, the headers, where the adapter is
mounted. The services count round trips and throttled answers with a
:class:`Counter`; a request budget (Defender's rate or adaptive limiter) plugs
in as a :class:`Pacer`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any, Protocol

import requests
from attrs import field, frozen
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader
from urllib3.response import BaseHTTPResponse
from urllib3.util import Retry

__all__ = [
    "THROTTLE_STATUSES",
    "Counter",
    "Pacer",
    "PolicyRetry",
    "SessionPolicy",
    "build_session",
    "make_retry",
]

logger = logging.getLogger(__name__)

#: answers meaning "slow down" (too many requests, busy): the others retried are failures
THROTTLE_STATUSES = frozenset({429, 503})


class Counter:
    """A thread-safe count (round trips, throttled answers), shared by adapter and retries."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0

    def add(self, n: int = 1) -> None:
        """Count ``n`` more."""
        with self._lock:
            self._value += n

    @property
    def value(self) -> int:
        """The count so far."""
        return self._value


class Pacer(Protocol):
    """A request budget the retries spend too (Defender's rate and adaptive limiters).

    A retry is a request like any other: it waits for the budget, and the
    answer that caused it is reported, so that an adaptive limit slows down on a
    429 that urllib3 retries without the caller ever seeing it.
    """

    def acquire(self) -> float:
        """Block until the calling thread may send a request; return the seconds waited."""

    def release(self) -> None:
        """The calling thread's request has its answer."""

    def record(
        self,
        status: int,
        *,
        ticket: tuple[int, float] | None = None,
        retry_after: float | None = None,
        throttled: int | None = None,
        kind: str = "",
    ) -> None:
        """Learn from an answer (a fixed budget ignores it)."""


@frozen(kw_only=True)
class SessionPolicy:
    """How one service's sessions connect, time out and retry; the caps come from its connection.

    Attributes:
        verify: ``True`` for the system trust store, ``False``, or a CA bundle path.
        proxies: requests-style proxies; never read from the environment.
        timeout: (connect, read) seconds for every request that sets none.
        retries: retries after the first attempt (connect, read and status each).
        retry_statuses: statuses retried, for ``retry_methods`` only.
        retry_methods: methods retried (a POST that creates must never be repeated blindly).
        backoff_factor: base of the exponential backoff, in seconds.
        backoff_max: the longest backoff sleep, in seconds.
        backoff_jitter: random extra seconds added to each backoff sleep.
        max_retry_after: the longest ``Retry-After`` honoured, in seconds.
        raise_on_status: when the retries are spent on a retried status, raise
            (requests' ``RetryError``) rather than hand back the last answer.
        headers: headers every request carries.
        mount: URL prefixes the policy's adapter is mounted on.
        pool_maxsize: connections kept per host.
    """

    verify: bool | str
    proxies: Mapping[str, str] = field(factory=dict)
    timeout: tuple[float, float]
    retries: int
    retry_statuses: frozenset[int]
    retry_methods: frozenset[str]
    backoff_factor: float
    backoff_max: float = Retry.DEFAULT_BACKOFF_MAX
    backoff_jitter: float = 0.0
    max_retry_after: float
    raise_on_status: bool = False
    headers: Mapping[str, str] = field(factory=dict)
    mount: tuple[str, ...] = ("https://", "http://")
    pool_maxsize: int = 10


class PolicyRetry(Retry):
    """urllib3's Retry with the connection's ``Retry-After`` cap, counters and request budget.

    Attributes:
        max_retry_after: the longest ``Retry-After`` honoured, in seconds.
        round_trips: counts each retry (one more attempt goes on the wire).
        throttled: counts each retried 429/503 answer (the caller never sees it).
        pacer: the request budget each retry waits for and reports to.
    """

    max_retry_after: float = 60.0
    round_trips: Counter | None = None
    throttled: Counter | None = None
    pacer: Pacer | None = None

    def new(self, **kw: Any) -> PolicyRetry:
        made = super().new(**kw)
        made.max_retry_after = self.max_retry_after
        made.round_trips = self.round_trips
        made.throttled = self.throttled
        made.pacer = self.pacer
        return made

    def increment(self, *args: Any, **kwargs: Any) -> PolicyRetry:
        response = kwargs.get("response", args[2] if len(args) > 2 else None)
        if self.throttled is not None and getattr(response, "status", None) in THROTTLE_STATUSES:
            self.throttled.add()  # answered, then retried here: requests never sees it
        made = super().increment(*args, **kwargs)  # raises when the retries are spent
        if self.round_trips is not None:
            self.round_trips.add()  # one more attempt goes on the wire
        return made

    def parse_retry_after(self, retry_after: str) -> float:
        """Seconds to wait for a ``Retry-After`` value, capped at ``max_retry_after``.

        The one place ``Retry-After`` is read: urllib3 reads both forms (seconds,
        an HTTP date) and raises :class:`~urllib3.exceptions.InvalidHeader` for
        anything else.
        """
        # a server asking for an hour would stall the whole sync; cap it
        return min(super().parse_retry_after(retry_after), self.max_retry_after)

    def retry_after(self, value: str | None) -> float | None:
        """The capped wait of a ``Retry-After`` value urllib3 did not see; ``None`` when unreadable.

        For answers not retried by the adapter: an inner answer of a Graph
        ``$batch``, a ServiceNow Batch API call.
        """
        if value is None:
            return None
        try:
            return self.parse_retry_after(value)
        except InvalidHeader:
            return None  # unreadable: back off as without one

    def pause(self, seconds: float) -> None:
        """Wait ``seconds``: every wait of the policy goes through here (tests record them)."""
        time.sleep(seconds)

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        """Wait before the next attempt: ``Retry-After`` when the answer gives one, else backoff.

        urllib3's rule, with the waits going through :meth:`pause` and the
        request budget released for the wait and taken again for the retry.
        """
        status = response.status if response is not None else "an error"
        logger.debug("retrying after %s (%d retries so far)", status, len(self.history))
        wait = self.get_retry_after(response) if response is not None else None
        if self.pacer is not None:
            if response is not None:
                self.pacer.record(response.status, retry_after=wait, kind="retried")
            self.pacer.release()  # the attempt that failed has its answer
        if wait and self.respect_retry_after_header:
            self.pause(wait)
        else:
            backoff = self.get_backoff_time()
            if backoff > 0:
                self.pause(backoff)
        if self.pacer is not None:
            self.pacer.acquire()  # a retry spends the same request budget


def make_retry(
    policy: SessionPolicy,
    *,
    round_trips: Counter | None = None,
    throttled: Counter | None = None,
    pacer: Pacer | None = None,
) -> PolicyRetry:
    """The retries of ``policy`` as a :class:`PolicyRetry`.

    Also used above urllib3, for failures it never sees (a body cut short after
    the headers, a body that is not JSON): ``increment`` with the error, then
    ``sleep``, as the adapter does.
    """
    retry = PolicyRetry(
        total=policy.retries,
        connect=policy.retries,
        read=policy.retries,
        status=policy.retries,
        other=0,  # TLS and protocol errors will not get better by retrying
        redirect=0,  # requests follows redirects itself
        allowed_methods=policy.retry_methods,
        status_forcelist=policy.retry_statuses,
        backoff_factor=policy.backoff_factor,
        backoff_max=policy.backoff_max,
        backoff_jitter=policy.backoff_jitter,
        respect_retry_after_header=True,
        raise_on_status=policy.raise_on_status,
    )
    retry.max_retry_after = policy.max_retry_after
    retry.round_trips = round_trips
    retry.throttled = throttled
    retry.pacer = pacer
    return retry


class _PolicyAdapter(HTTPAdapter):
    """Gives every request the policy's timeout (pysnc and msal may pass none), counts it."""

    def __init__(
        self, *, timeout: tuple[float, float], round_trips: Counter, retry: Retry, pool: int
    ) -> None:
        self.timeout = timeout
        self._round_trips = round_trips
        super().__init__(max_retries=retry, pool_maxsize=pool)

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        self._round_trips.add()  # urllib3's retries are counted by the Retry
        return super().send(request, **kwargs)


def build_session(
    policy: SessionPolicy,
    *,
    round_trips: Counter,
    throttled: Counter | None = None,
    pacer: Pacer | None = None,
) -> requests.Session:
    """A session that ignores the environment, verifies as told, never hangs and retries by policy.

    Args:
        policy: trust, timeouts, retries and caps.
        round_trips: counts every request put on the wire, each retry included.
        throttled: counts the 429/503 answers the retries absorbed.
        pacer: a request budget every retry waits for and reports to.
    """
    session = requests.Session()
    # REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE / *_PROXY must not override what the caller set
    session.trust_env = False
    session.verify = policy.verify
    session.proxies = dict(policy.proxies)
    session.headers.update(policy.headers)
    retry = make_retry(policy, round_trips=round_trips, throttled=throttled, pacer=pacer)
    adapter = _PolicyAdapter(
        timeout=policy.timeout, round_trips=round_trips, retry=retry, pool=policy.pool_maxsize
    )
    for prefix in policy.mount:
        session.mount(prefix, adapter)
    return session
