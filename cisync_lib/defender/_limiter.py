"""A thread-safe sliding-window rate limiter, shared per tenant when asked.

A request holds its slot from the moment it is sent until its response has
arrived (:meth:`RateLimiter.release`), and the slot then stays taken for one
more window. The server counts a request when it arrives, which is somewhere
in between, so however slow the network, no window at the server ever holds
more than ``calls`` requests.

Why not a library: the one budget we must honour (30 requests in any 60 s
window per tenant, for the legacy API) needs this strict window, counted at
completion and including urllib3's retries; token-bucket libraries allow a
full bucket plus its refill inside one window and count at send time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["Limiter", "RateLimiter", "reset_shared_limiters", "shared_limiter"]


class Limiter(Protocol):
    """What a request budget offers the HTTP client: a fixed rate or an adaptive limit."""

    def acquire(self) -> float:
        """Block until the calling thread may send a request; return the seconds waited."""

    def release(self) -> None:
        """The calling thread's request has its answer."""

    def started(self) -> tuple[int, float] | None:
        """The calling thread's request in flight, as a ticket for :meth:`record`."""

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


_IN_FLIGHT = float("inf")


class _Slot:
    __slots__ = ("until",)

    def __init__(self) -> None:
        self.until = _IN_FLIGHT  # taken until one window after its response


class RateLimiter:
    """At most ``calls`` requests in any window of ``period`` seconds, counted at completion.

    Args:
        calls: requests allowed per window.
        period: the window, in seconds.
        clock: a monotonic clock (tests pass a fake one).
        sleep: how to wait when no slot is free and none is in flight (tests pass
            a fake one); waits for an in-flight request use a condition variable.
    """

    def __init__(
        self,
        calls: int,
        period: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if calls < 1 or period <= 0:
            raise ValueError(f"need calls >= 1 and period > 0, got {calls} / {period}")
        self.calls = calls
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._slots: list[_Slot] = []
        self._changed = threading.Condition()
        self._current = threading.local()
        self.waited = 0.0

    def acquire(self) -> float:
        """Block until a request may be sent, take a slot for it; return the seconds waited.

        The slot belongs to the calling thread until :meth:`release`.
        """
        waited = 0.0
        with self._changed:
            while True:
                now = self._clock()
                self._slots = [s for s in self._slots if s.until > now]
                if len(self._slots) < self.calls:
                    slot = _Slot()
                    self._slots.append(slot)
                    self._current.slot = slot
                    self.waited += waited
                    return waited
                delay = min(s.until for s in self._slots) - now
                if self._sleep is not None and delay != _IN_FLIGHT:
                    self._changed.release()
                    try:
                        self._sleep(delay)
                    finally:
                        self._changed.acquire()
                else:  # wait for a release, or for the earliest slot to expire
                    self._changed.wait(None if delay == _IN_FLIGHT else delay)
                waited += self._clock() - now

    def release(self) -> None:
        """The calling thread's request has its response: its slot expires one window from now."""
        slot: _Slot | None = getattr(self._current, "slot", None)
        if slot is None:
            return
        self._current.slot = None
        with self._changed:
            slot.until = self._clock() + self.period
            self._changed.notify_all()

    def started(self) -> tuple[int, float] | None:
        """A fixed budget keeps no tickets."""
        return None

    def record(
        self,
        status: int,
        *,
        ticket: tuple[int, float] | None = None,
        retry_after: float | None = None,
        throttled: int | None = None,
        kind: str = "",
    ) -> None:
        """A fixed budget does not adapt (urllib3 still honours ``Retry-After`` per request)."""


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
