"""One read, whatever the backend: streams, apps per stream, then the per-app fan-out.

The fan-out (users, devices, catalog info) is a list of :class:`Call`; a
backend runs them in chunks of its ``batch_size`` (Graph sends a chunk's
first pages as one JSON batch), the chunks on a bounded thread pool;
results are put back in plan order so a read is deterministic, and the first
failure cancels what has not started and fails the whole read.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from datetime import datetime, timezone
from functools import partial
from typing import Protocol, TypeVar, cast

import attrs
from attrs import frozen

from cisync_lib._models import AppInfo, AppUser, DiscoveredApp, DiscoveryStream
from cisync_lib.errors import ConfigError

from ._data import (
    AppDevice,
    DefenderData,
    ProgressCallback,
    ReadProgress,
    merge_apps,
    merge_by_app,
)

__all__ = ["Backend", "Call", "Later", "call_one", "normalize_period", "run_read", "select_streams"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
_PERIODS = {"P7D": "P7D", "P30D": "P30D", "P90D": "P90D", "7": "P7D", "30": "P30D", "90": "P90D"}


@frozen
class Call:
    """One per-app read of the fan-out: ``users``, ``devices`` or ``info`` of one app."""

    kind: str
    stream: DiscoveryStream
    app: DiscoveredApp
    period: str


class Backend(Protocol):
    """The primitives a source offers; :func:`run_read` composes them into a read."""

    kind: str
    #: calls per :meth:`run_calls` chunk (1: one at a time).
    batch_size: int

    def run_calls(self, calls: Sequence[Call]) -> list[object]:
        """Run a chunk of calls (:func:`call_one` each, or batched); results in order.

        A result may be a :class:`Later`, finished after every chunk has run.
        """

    def list_streams(self) -> list[DiscoveryStream]:
        """Every stream of the tenant."""

    def list_apps(
        self, stream: DiscoveryStream, period: str, max_risk_score: int
    ) -> list[DiscoveredApp]:
        """Every app of one stream in the period (``stream_id`` and ``period`` set)."""

    def list_users(self, stream: DiscoveryStream, app: DiscoveredApp, period: str) -> list[AppUser]:
        """Every user of one app in one stream (``app_id``, ``stream_id``, ``anonymized`` set)."""

    def list_devices(
        self, stream: DiscoveryStream, app: DiscoveredApp, period: str
    ) -> list[AppDevice]:
        """Every device of one app in one endpoint stream."""

    def get_app_info(
        self, stream: DiscoveryStream, app: DiscoveredApp, period: str
    ) -> AppInfo | None:
        """Catalog information of one app, or ``None`` when the catalog has none."""


@frozen
class Later:
    """A result :meth:`Backend.run_calls` leaves for later: ``finish()`` reads the rest.

    A batched first page that links to more pages comes back as one, so that
    long page chains are followed in parallel, not one after another.
    """

    finish: Callable[[], object]


def _later(result: object) -> bool:
    return isinstance(result, Later)


def call_one(backend: Backend, call: Call) -> object:
    """Run one call through the backend's primitives."""
    if call.kind == "users":
        return backend.list_users(call.stream, call.app, call.period)
    if call.kind == "devices":
        return backend.list_devices(call.stream, call.app, call.period)
    return backend.get_app_info(call.stream, call.app, call.period)


def normalize_period(value: str | int) -> str:
    """``7``/``30``/``90`` (a report time frame in days) or ``P7D``/``P30D``/``P90D``."""
    found = _PERIODS.get(str(value).strip().upper())
    if found is None:
        raise ConfigError(
            key="period", problem=f"unknown period {value!r}", allowed="7, 30, 90, P7D, P30D, P90D"
        )
    return found


def check_risk_score(value: int) -> int:
    """Validate ``max_risk_score`` (0 to 10)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise ConfigError(key="max_risk_score", problem=f"got {value!r}", allowed="0 to 10")
    return value


def select_streams(
    streams: Sequence[DiscoveryStream], selectors: Sequence[str] | None
) -> tuple[DiscoveryStream, ...]:
    """All non-snapshot streams, or those named by id or display name (in the given order)."""
    if selectors is None:
        return tuple(s for s in streams if not s.is_snapshot)
    if isinstance(selectors, str):
        selectors = [selectors]
    if not selectors:
        # an empty read would look complete, and a sync would retire every app
        raise ConfigError(
            key="streams",
            problem="an empty list selects no stream; pass None to read every non-snapshot stream",
        )
    chosen: dict[str, DiscoveryStream] = {}
    for selector in selectors:
        matches = [s for s in streams if selector in (s.id, s.display_name)]
        if not matches:
            known = ", ".join(f"{s.display_name} ({s.id})" for s in streams) or "none"
            raise ConfigError(
                key="streams", problem=f"no stream with id or name {selector!r}", allowed=known
            )
        for stream in matches:
            chosen.setdefault(stream.id, stream)
    return tuple(chosen.values())


@attrs.define
class _Counter:
    progress: ReadProgress
    callback: ProgressCallback | None

    def update(self, **changes: object) -> None:
        self.progress = attrs.evolve(self.progress, **changes)  # type: ignore[arg-type]
        if self.callback is not None:
            self.callback(self.progress)


def run_read(
    backend: Backend,
    *,
    period: str | int,
    max_risk_score: int,
    streams: Sequence[str] | None,
    include_users: bool,
    include_devices: bool,
    include_app_info: bool,
    progress: ProgressCallback | None,
    concurrency: int,
    info_cache: dict[str, AppInfo | None],
) -> DefenderData:
    """Read everything asked for, or raise; see :meth:`GraphSource.read`."""
    period = normalize_period(period)
    check_risk_score(max_risk_score)
    read_at = datetime.now(timezone.utc)
    counter = _Counter(ReadProgress(phase="streams"), progress)
    counter.update()
    selected = select_streams(backend.list_streams(), streams)
    counter.update(phase="apps", streams_total=len(selected))

    def kept(stream: DiscoveryStream, apps: list[DiscoveredApp]) -> list[DiscoveredApp]:
        riskier = [a.id for a in apps if a.risk_score > max_risk_score]
        if riskier:  # the server ignored the filter: keep the promise client-side
            logger.warning(
                "stream %s returned %d apps above the risk filter", stream.id, len(riskier)
            )
            apps = [a for a in apps if a.risk_score <= max_risk_score]
        return apps

    filtered: dict[int, list[DiscoveredApp]] = {}

    def listed(index: int, apps: list[DiscoveredApp]) -> None:
        filtered[index] = kept(selected[index], apps)
        counter.update(
            streams_read=counter.progress.streams_read + 1,
            apps_read=counter.progress.apps_read + len(filtered[index]),
        )

    # the streams' app lists do not depend on each other: read them at once
    run_tasks(
        [partial(backend.list_apps, s, period, max_risk_score) for s in selected],
        concurrency,
        listed,
    )
    per_stream = [(s, filtered[i]) for i, s in enumerate(selected)]
    counter.update(phase="details", apps_total=counter.progress.apps_read)

    calls: list[Call] = []  # the per-app fan-out, in a fixed order
    planned_info: set[str] = set()
    for stream, apps in per_stream:
        for app in apps:
            if include_users and app.user_count > 0:
                calls.append(Call("users", stream, app, period))
            if include_devices and (stream.is_endpoint or app.is_endpoint):
                calls.append(Call("devices", stream, app, period))
            if include_app_info and app.id not in info_cache and app.id not in planned_info:
                planned_info.add(app.id)
                calls.append(Call("info", stream, app, period))
    counter.update(requests_total=len(calls))
    size = max(1, backend.batch_size)
    chunks = [calls[i : i + size] for i in range(0, len(calls), size)]

    def finished(results: Sequence[object], kinds: Sequence[str]) -> None:
        found = sum(
            len(r)
            for k, r in zip(kinds, results, strict=True)
            if k == "users" and isinstance(r, list)
        )
        counter.update(
            requests_done=counter.progress.requests_done + len(results),
            users_read=counter.progress.users_read + found,
        )

    def done(index: int, results: list[object]) -> None:
        ready = [(c.kind, r) for c, r in zip(chunks[index], results, strict=True) if not _later(r)]
        finished([r for _, r in ready], [k for k, _ in ready])

    chunked = run_tasks([partial(backend.run_calls, chunk) for chunk in chunks], concurrency, done)
    flat = [r for rs in chunked for r in rs]
    # the rest of long page chains: one task each, the longest first, all at once
    later = sorted(
        (i for i, r in enumerate(flat) if _later(r)), key=lambda i: -calls[i].app.user_count
    )
    if later:
        rest = run_tasks(
            [cast("Later", flat[i]).finish for i in later],
            concurrency,
            lambda n, r: finished([r], [calls[later[n]].kind]),
        )
        for index, result in zip(later, rest, strict=True):
            flat[index] = result
    users: list[AppUser] = []
    devices: list[AppDevice] = []
    for call, result in zip(calls, flat, strict=True):
        if call.kind == "users":
            users.extend(cast("list[AppUser]", result))
        elif call.kind == "devices":
            devices.extend(cast("list[AppDevice]", result))
        else:
            info_cache[call.app.id] = cast("AppInfo | None", result)

    observations = [app for _, apps in per_stream for app in apps]
    merged = merge_apps(observations)
    info = {
        m.id: found
        for m in merged
        if include_app_info and (found := info_cache.get(m.id)) is not None
    }
    data = DefenderData(
        streams=selected,
        apps=merged,
        users=merge_by_app(users, lambda u: u.identifier) if include_users else {},
        devices=merge_by_app(devices, lambda d: d.name) if include_devices else {},
        app_info=info,
        complete=True,
        read_at=read_at,
        period=period,
        max_risk_score=max_risk_score,
        users_read=include_users,
        source=backend.kind,
    )
    counter.update(phase="done")
    return data


def run_tasks(
    tasks: Sequence[Callable[[], T]],
    concurrency: int,
    on_done: Callable[[int, T], None] | None = None,
) -> list[T]:
    """Run ``tasks`` on at most ``concurrency`` threads; results in task order.

    The first failure stops tasks that have not started and is re-raised;
    ``on_done`` is called on the calling thread as tasks finish.
    """
    if concurrency <= 1 or len(tasks) <= 1:
        out: list[T] = []
        for index, task in enumerate(tasks):
            out.append(task())
            if on_done is not None:
                on_done(index, out[-1])
        return out
    stop = threading.Event()

    def guarded(task: Callable[[], T]) -> T:
        if stop.is_set():
            raise _Cancelled
        return task()

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="cisync-defender") as pool:
        futures: list[Future[T]] = [pool.submit(guarded, task) for task in tasks]
        index_of = {id(f): i for i, f in enumerate(futures)}
        pending: set[Future[T]] = set(futures)
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
                failed = [f for f in finished if f.exception() is not None]
                if failed:
                    first = min(failed, key=lambda f: index_of[id(f)])
                    raise first.exception()  # type: ignore[misc]
                if on_done is not None:
                    for future in sorted(finished, key=lambda f: index_of[id(f)]):
                        on_done(index_of[id(future)], future.result())
        except BaseException:
            # a failure or Ctrl-C: leaving the pool waits for its tasks, so drop those not started
            stop.set()
            for future in pending:
                future.cancel()
            raise
    return [f.result() for f in futures]


class _Cancelled(Exception):
    """A task skipped because another one failed (never seen by callers)."""
