"""Seeded, rule-based fault injection shared by every sandbox service."""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Collection
from typing import Literal

import attrs
from attrs import field, frozen

from cisync_lib import ConfigError

__all__ = ["FAULT_KINDS", "FaultInjector", "FaultKind", "FaultRule"]

FaultKind = Literal["status", "latency", "drop", "slow", "unserviced", "malformed", "short_page"]

#: every fault kind; the last two are applied by the services themselves.
FAULT_KINDS: tuple[str, ...] = (
    "status",
    "latency",
    "drop",
    "slow",
    "malformed",
    "unserviced",
    "short_page",
)


def _upper(method: str | None) -> str | None:
    return method.upper() if method else None


def _compile(pattern: str | None) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ConfigError(
            file="<FaultRule>", key="path", problem=f"invalid regular expression: {exc}"
        ) from exc


@frozen(kw_only=True)
class FaultRule:
    """One fault to inject into matching requests.

    Attributes:
        service: only this service (``None``: any).
        method: only this HTTP method (``None``: any).
        path: a regular expression searched in the URL path (``None``: any). For
            ``unserviced`` it is matched against each Batch API sub-request's path.
        kind: ``status`` answers ``status`` (with ``Retry-After`` if given) without
            serving the request; ``latency`` waits ``delay`` seconds first;
            ``drop`` serves the request, then cuts the connection half-way through
            the response body; ``slow`` serves it, then waits ``delay`` seconds
            before answering (longer than the client's timeout); ``malformed``
            serves it but sends a truncated, invalid JSON body; ``unserviced``
            returns matching Batch API sub-requests in ``unserviced_requests``;
            ``short_page`` drops ``rows`` rows from a list page while
            ``X-Total-Count`` still counts them (as ACL filtering does).
        status: the status for ``status`` faults (429, 500, 502, 503, ...).
        retry_after: the ``Retry-After`` header value in whole seconds.
        delay: seconds for ``latency`` and ``slow``.
        probability: the chance that a matching request gets the fault (seeded).
        times: apply at most this many times (``None``: always).
        after: let this many matching requests through before the first fault.
        rows: rows a ``short_page`` fault removes (``None``: half the page, at least one).
    """

    service: str | None = None
    method: str | None = field(default=None, converter=_upper)
    path: str | None = None
    kind: FaultKind = "status"
    status: int = 503
    retry_after: int | None = None
    delay: float = 0.0
    probability: float = 1.0
    times: int | None = None
    after: int = 0
    rows: int | None = None
    _pattern: re.Pattern[str] | None = field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        def bad(key: str, problem: str) -> ConfigError:
            return ConfigError(file="<FaultRule>", key=key, problem=problem)

        if self.kind not in FAULT_KINDS:
            raise ConfigError(
                file="<FaultRule>", key="kind", problem=f"unknown kind {self.kind!r}",
                allowed=", ".join(FAULT_KINDS),
            )  # fmt: skip
        if not 100 <= self.status <= 599:
            raise bad("status", f"{self.status} is not an HTTP status")
        if self.retry_after is not None and self.retry_after < 0:
            raise bad("retry_after", "must not be negative")
        if self.delay < 0:
            raise bad("delay", "must not be negative")
        if not 0.0 <= self.probability <= 1.0:
            raise bad("probability", "must be between 0 and 1")
        if self.times is not None and self.times < 0:
            raise bad("times", "must not be negative")
        if self.after < 0:
            raise bad("after", "must not be negative")
        if self.rows is not None and self.rows < 1:
            raise bad("rows", "must be at least 1")
        object.__setattr__(self, "_pattern", _compile(self.path))

    def matches(self, service: str, method: str, path: str) -> bool:
        """Whether the rule applies to this request (before counting and chance)."""
        return (
            (self.service is None or self.service == service)
            and (self.method is None or self.method == method.upper())
            and (self._pattern is None or self._pattern.search(path) is not None)
        )


@attrs.define
class _State:
    rule: FaultRule
    random: random.Random
    seen: int = 0
    fired: int = 0


class FaultInjector:
    """The fault rules of one sandbox; services ask it which fault, if any, applies.

    Args:
        seed: seeds the random draws of rules with ``probability < 1``.
    """

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._states: list[_State] = []
        self._seed = seed

    @property
    def rules(self) -> tuple[FaultRule, ...]:
        """The active rules, in the order they are tried."""
        with self._lock:
            return tuple(s.rule for s in self._states)

    def add(self, rule: FaultRule) -> FaultRule:
        """Add a rule (tried after the existing ones) and return it."""
        # each rule draws from its own generator, seeded by the sandbox seed and the rule,
        # so a rule behaves the same whatever other tests did on a shared sandbox
        generator = random.Random(f"{self._seed}|{rule!r}")
        with self._lock:
            self._states.append(_State(rule, generator))
        return rule

    def remove(self, rule: FaultRule) -> None:
        """Remove a rule added earlier (no error if it is gone)."""
        with self._lock:
            self._states = [s for s in self._states if s.rule is not rule]

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._states = []

    def fired(self, rule: FaultRule) -> int:
        """How many times ``rule`` has been applied."""
        with self._lock:
            return sum(s.fired for s in self._states if s.rule is rule)

    def pick(
        self, service: str, method: str, path: str, kinds: Collection[str]
    ) -> FaultRule | None:
        """Return the first rule of one of ``kinds`` that fires for this request.

        Counting (``after``, ``times``) and the seeded draw happen here, so call it
        once per request (or per Batch API sub-request) and kind family.
        """
        with self._lock:
            for state in self._states:
                if state.rule.kind in kinds and self._fires(state, service, method, path):
                    return state.rule
        return None

    def pick_all(self, service: str, method: str, path: str, kind: str) -> tuple[FaultRule, ...]:
        """Return every rule of ``kind`` that fires (latency rules add up)."""
        with self._lock:
            return tuple(
                s.rule
                for s in self._states
                if s.rule.kind == kind and self._fires(s, service, method, path)
            )

    def _fires(self, state: _State, service: str, method: str, path: str) -> bool:
        rule = state.rule
        if not rule.matches(service, method, path):
            return False
        state.seen += 1
        if state.seen <= rule.after:
            return False
        if rule.times is not None and state.fired >= rule.times:
            return False
        if rule.probability < 1.0 and state.random.random() >= rule.probability:
            return False
        state.fired += 1
        return True

    def choose_rows(self, rule: FaultRule, count: int) -> list[int]:
        """Pick the row positions a ``short_page`` rule removes from a page of ``count`` rows."""
        drop = min(count, rule.rows or max(1, count // 2))
        with self._lock:
            state = next((s for s in self._states if s.rule is rule), None)
            generator = state.random if state is not None else random.Random(self._seed)
            return sorted(generator.sample(range(count), drop))
