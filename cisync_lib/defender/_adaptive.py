"""An adaptive concurrency limit for Graph (AIMD), with ``Retry-After`` for everyone.

Graph documents no limit for ``cloudAppDiscovery``, so a fixed rate is either
too slow or gets throttled. The limit on requests in flight adapts instead,
as TCP's congestion window does: until the first throttling it grows by one
per fast answer (slow start: it doubles every round), then by one request per
"round" of fast, unthrottled answers (additive increase); it halves when the service
answers 429 or 503 (multiplicative decrease, once per round so that a burst
of 429s for requests sent together counts as one signal), and stays between
1 and ``maximum``. A 429 or 503 with ``Retry-After`` also holds every request
not yet sent until that time: the service asked the app, not one request, to wait.

Why not a library: the published AIMD limiters (Netflix's concurrency-limits
and its ports) are for servers shedding load, not a client honouring
``Retry-After``; the rule is a dozen lines.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from attrs import frozen

from cisync_lib._http import THROTTLE_STATUSES

__all__ = ["AdaptiveLimiter", "LimiterStats"]


@frozen(kw_only=True)
class LimiterStats:
    """What a limiter saw, for the run report.

    Attributes:
        limit: the concurrency limit now.
        peak_limit: the highest limit reached.
        peak_in_flight: the most requests in flight at once.
        maximum: the configured maximum.
        throttled: 429/503 answers (inner batch answers included).
        decreases: times the limit was cut.
        waited: seconds requests spent held by ``Retry-After``.
    """

    limit: int
    peak_limit: int
    peak_in_flight: int
    maximum: int
    throttled: int
    decreases: int
    waited: float


class AdaptiveLimiter:
    """At most ``limit`` requests in flight; the limit adapts between 1 and ``maximum``.

    Same protocol as :class:`~._limiter.RateLimiter` (:meth:`acquire` before a
    request, :meth:`release` after its answer), plus :meth:`record` for what
    the answer said.

    Args:
        maximum: the highest limit.
        initial: the limit to start from (``None``: ``min(4, maximum)``).
        slow_factor: an answer slower than ``slow_factor`` times the fastest
            answer seen does not raise the limit (the service is queueing).
        decrease: the factor the limit is multiplied by on throttling.
        clock: a monotonic clock (tests pass a fake one).
        sleep: how to wait out a ``Retry-After`` when no request is in
            flight (tests pass a fake one); otherwise a condition variable.
    """

    def __init__(
        self,
        maximum: int,
        *,
        initial: int | None = None,
        slow_factor: float = 3.0,
        decrease: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if maximum < 1:
            raise ValueError(f"need maximum >= 1, got {maximum}")
        self.maximum = maximum
        self._limit = float(min(maximum, initial if initial is not None else 4))
        self._limit = max(1.0, self._limit)
        self.slow_factor = slow_factor
        self.decrease = decrease
        self._clock = clock
        self._sleep = sleep
        self._changed = threading.Condition()
        self._current = threading.local()
        self._in_flight = 0
        self._hold_until = 0.0
        self._fastest: dict[str, float] = {}
        self._cut_ever = False  # slow start until the service first pushes back
        self._sent = 0  # requests started, numbering them for the once-per-round rule
        self._last_cut = -1  # requests started before the last cut do not cut again
        self._peak_limit = int(self._limit)
        self._peak_in_flight = 0
        self._throttled = 0
        self._decreases = 0
        self._waited = 0.0

    @property
    def limit(self) -> int:
        """Requests allowed in flight now."""
        with self._changed:
            return int(self._limit)

    def stats(self) -> LimiterStats:
        """What this limiter saw so far."""
        with self._changed:
            return LimiterStats(
                limit=int(self._limit),
                peak_limit=self._peak_limit,
                peak_in_flight=self._peak_in_flight,
                maximum=self.maximum,
                throttled=self._throttled,
                decreases=self._decreases,
                waited=round(self._waited, 3),
            )

    def reset_stats(self) -> None:
        """Start counting afresh (each read reports its own figures); the limit is kept."""
        with self._changed:
            self._peak_limit = int(self._limit)
            self._peak_in_flight = self._in_flight
            self._throttled = self._decreases = 0
            self._waited = 0.0

    def acquire(self) -> float:
        """Block until a request may be sent (under the limit, no ``Retry-After`` pending).

        Returns:
            The seconds waited.
        """
        waited = 0.0
        with self._changed:
            while True:
                now = self._clock()
                hold = self._hold_until - now
                if hold <= 0 and self._in_flight < int(self._limit):
                    break
                if hold > 0 and self._sleep is not None and self._in_flight == 0:
                    self._changed.release()
                    try:
                        self._sleep(hold)
                    finally:
                        self._changed.acquire()
                else:
                    self._changed.wait(hold if hold > 0 else None)
                spent = self._clock() - now
                waited += spent
                if hold > 0:
                    self._waited += spent
            self._in_flight += 1
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)
            self._sent += 1
            self._current.ticket = (self._sent, self._clock())
        return waited

    def release(self) -> None:
        """The calling thread's request has its answer: free its place."""
        ticket = getattr(self._current, "ticket", None)
        if ticket is None:
            return
        self._current.ticket = None
        self._current.last = ticket
        with self._changed:
            self._in_flight -= 1
            self._changed.notify_all()

    def started(self) -> tuple[int, float] | None:
        """The calling thread's request in flight, else its last one: (number, when sent)."""
        ticket: tuple[int, float] | None = getattr(self._current, "ticket", None)
        return ticket if ticket is not None else getattr(self._current, "last", None)

    def record(
        self,
        status: int,
        *,
        ticket: tuple[int, float] | None = None,
        retry_after: float | None = None,
        throttled: int | None = None,
        kind: str = "",
    ) -> None:
        """Adapt to one answer.

        Args:
            status: the HTTP status (for a batch, its envelope's).
            ticket: the request's :meth:`started` ticket (default: the calling
                thread's request in flight, or the last it sent).
            retry_after: the ``Retry-After`` seconds the answer asked for, if any.
            throttled: for a batch, how many inner answers were 429/503
                (``None``: judge by ``status``).
            kind: what was asked (``batch``, ``get``): "fast" compares an answer
                with the fastest answer of the same kind.
        """
        ticket = ticket if ticket is not None else self.started()
        number, sent_at = ticket if ticket is not None else (self._sent, self._clock())
        count = throttled if throttled is not None else int(status in THROTTLE_STATUSES)
        with self._changed:
            now = self._clock()
            if retry_after is not None and retry_after > 0:
                self._hold_until = max(self._hold_until, now + retry_after)
            if count:
                self._throttled += count
                if number > self._last_cut:  # once per round: later answers of it are old news
                    self._limit = max(1.0, self._limit * self.decrease)
                    self._last_cut = self._sent
                    self._decreases += 1
                    self._cut_ever = True
            elif 200 <= status < 400:
                elapsed = max(0.0, now - sent_at)
                fastest = self._fastest.get(kind)
                self._fastest[kind] = elapsed if fastest is None else min(fastest, elapsed)
                fast = fastest is None or elapsed <= self.slow_factor * fastest + 0.001
                if fast and number > self._last_cut and self._limit < self.maximum:
                    step = 1.0 / self._limit if self._cut_ever else 1.0
                    self._limit = min(float(self.maximum), self._limit + step)
                    self._peak_limit = max(self._peak_limit, int(self._limit))
            self._changed.notify_all()
