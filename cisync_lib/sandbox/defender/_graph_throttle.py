"""Graph's throttling in the sandbox: a token bucket per app per tenant, answered with 429.

Graph throttles per app and tenant and says when to come back with
``Retry-After`` (whole seconds). A token bucket is how such service limits
behave: ``burst`` requests at once after a quiet spell, then ``requests`` per
``period``. Each inner request of a ``$batch`` takes its own token.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping

from cisync_lib.sandbox._config_defender import GraphThrottle

__all__ = ["GraphThrottler", "TokenBucket"]


class TokenBucket:
    """``capacity`` tokens, refilled at ``rate`` per second (not thread-safe; the throttler locks).

    Args:
        rate: tokens added per second.
        capacity: the most tokens the bucket holds (it starts full).
        now: the current time of the caller's clock.
    """

    def __init__(self, rate: float, capacity: int, now: float) -> None:
        self.rate, self.capacity = rate, capacity
        self._tokens = float(capacity)
        self._at = now

    def take(self, now: float) -> float:
        """Take a token and return 0, or return the seconds until one is there."""
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate


class GraphThrottler:
    """The throttling policies of the sandbox's Graph, one bucket per (tenant, app).

    Args:
        default: the policy of every app (``None``: none).
        per_app: policies of particular apps (client ids).
        clock: a monotonic clock (tests pass a fake one).
    """

    def __init__(
        self,
        default: GraphThrottle | None,
        per_app: Mapping[str, GraphThrottle],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._default = default
        self._per_app = dict(per_app)
        self._clock = clock
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()
        self.allowed = 0
        self.throttled = 0

    def set_policy(self, policy: GraphThrottle | None, app_id: str | None = None) -> None:
        """Change the policy of every app (``app_id`` ``None``) or of one app; buckets start full.

        An app-specific ``None`` removes that app's own policy (the default applies again).
        """
        with self._lock:
            if app_id is None:
                self._default = policy
            elif policy is None:
                self._per_app.pop(app_id, None)
            else:
                self._per_app[app_id] = policy
            self._buckets.clear()
            self.allowed = self.throttled = 0

    def check(self, tenant_id: str, app_id: str) -> int:
        """Spend one request of ``app_id`` in ``tenant_id``: 0, or the ``Retry-After`` seconds."""
        policy = self._per_app.get(app_id, self._default)
        if policy is None:
            return 0
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get((tenant_id, app_id))
            if bucket is None:
                bucket = TokenBucket(policy.rate, policy.capacity, now)
                self._buckets[(tenant_id, app_id)] = bucket
            wait = bucket.take(now)
            if wait <= 0:
                self.allowed += 1
                return 0
            self.throttled += 1
            return max(1, math.ceil(wait))  # Retry-After is in whole seconds
