"""A thread-safe sliding-window rate limiter, shared per tenant when asked.

Why not a library: the one budget we must honour (30 requests in any 60 s
window per tenant, for the legacy API) needs a strict sliding window that
also counts urllib3's retries; the token-bucket libraries allow a full bucket
plus its refill inside one window, and their APIs changed between releases.
This is a deque of timestamps and a lock.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable

__all__ = ["RateLimiter", "reset_shared_limiters", "shared_limiter"]


class RateLimiter:
    """At most ``calls`` acquisitions in any window of ``period`` seconds.

    Args:
        calls: acquisitions allowed per window.
        period: the window, in seconds.
        clock: a monotonic clock (tests pass a fake one).
        sleep: how to wait (tests pass a fake one).
    """

    def __init__(
        self,
        calls: int,
        period: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if calls < 1 or period <= 0:
            raise ValueError(f"need calls >= 1 and period > 0, got {calls} / {period}")
        self.calls = calls
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._stamps: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()
        self.waited = 0.0

    def acquire(self) -> float:
        """Block until a request may be sent; return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                while self._stamps and self._stamps[0] <= now - self.period:
                    self._stamps.popleft()
                if len(self._stamps) < self.calls:
                    self._stamps.append(now)
                    self.waited += waited
                    return waited
                delay = self._stamps[0] + self.period - now
            # sleep outside the lock so other threads can check the clock too
            self._sleep(delay)
            waited += delay


_SHARED: dict[tuple[str, int, float], RateLimiter] = {}
_SHARED_LOCK = threading.Lock()


def shared_limiter(key: str, calls: int, period: float) -> RateLimiter:
    """The one limiter for ``key`` (a tenant) and this budget, made on first use."""
    with _SHARED_LOCK:
        limiter = _SHARED.get((key, calls, period))
        if limiter is None:
            limiter = _SHARED[(key, calls, period)] = RateLimiter(calls, period)
        return limiter


def reset_shared_limiters() -> None:
    """Forget every shared limiter (tests; a process that changes tenants)."""
    with _SHARED_LOCK:
        _SHARED.clear()
