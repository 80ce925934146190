"""What one read returns: streams, apps merged across streams, users, devices, catalog info."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TypeVar

import attrs
from attrs import field, frozen

from cisync_lib._models import AppInfo, AppUser, DiscoveredApp, DiscoveryStream

__all__ = [
    "AppDevice",
    "DefenderData",
    "MergedApp",
    "ProgressCallback",
    "ReadProgress",
    "merge_apps",
    "merge_by_app",
]

_EPOCH = datetime(1, 1, 1, tzinfo=timezone.utc)
_Item = TypeVar("_Item", "AppUser", "AppDevice")


@frozen(kw_only=True)
class AppDevice:
    """One device Defender reported for an app in an endpoint (Defender for Endpoint) stream.

    Attributes:
        name: the device name as reported (an encrypted token when anonymized).
        app_id: the app it was reported for.
        stream_id: the stream it was reported in.
        anonymized: the stream anonymizes device names.
    """

    name: str
    app_id: str = ""
    stream_id: str = ""
    anonymized: bool = False


@frozen(kw_only=True)
class MergedApp:
    """One app across every stream it was seen in.

    Attributes:
        app: the merged view: the fields of the most recently seen observation,
            the latest ``last_seen``, the union of domains and tags, the largest
            of each count (streams overlap, so sums would double-count), no
            ``stream_id``.
        observations: the per-stream observations, in stream order, with their
            own metrics.
    """

    app: DiscoveredApp
    observations: tuple[DiscoveredApp, ...]

    @property
    def id(self) -> str:
        """The app id."""
        return self.app.id

    @property
    def stream_ids(self) -> tuple[str, ...]:
        """The streams the app was seen in."""
        return tuple(o.stream_id or "" for o in self.observations)


@frozen(kw_only=True)
class ReadProgress:
    """How far a read has got; passed to the progress callback after each step.

    Attributes:
        phase: ``streams``, ``apps``, ``details`` (users, devices, catalog) or ``done``.
        streams_read: streams whose app lists are complete.
        streams_total: streams to read, once known.
        apps_read: app observations read so far.
        apps_total: app observations in total, once every app list is read.
        users_read: user identifiers read so far.
        requests_done: per-app detail reads finished (users, devices, catalog).
        requests_total: per-app detail reads planned, once known.
    """

    phase: str
    streams_read: int = 0
    streams_total: int | None = None
    apps_read: int = 0
    apps_total: int | None = None
    users_read: int = 0
    requests_done: int = 0
    requests_total: int | None = None


#: A callable the CLI or a notebook gives to see progress.
ProgressCallback = Callable[[ReadProgress], None]


@frozen(kw_only=True)
class DefenderData:
    """Everything one read returned; complete, or the read raised.

    Attributes:
        streams: the streams that were read, in the order read.
        apps: the apps, merged across streams by id, ordered by id (numeric ids
            numerically), so the order never depends on how a server pages.
        users: app id -> its users across streams (one entry per identifier
            and stream, each with its stream's anonymization flag).
        devices: app id -> its devices (endpoint streams only).
        app_info: app id -> catalog information, when enrichment was asked for.
        complete: True when every page of everything asked for was read.
        read_at: when the read started (UTC).
        period: the report period, ``P7D``, ``P30D`` or ``P90D``.
        max_risk_score: apps riskier than this were not read (10: all).
        users_read: whether users were read; when False, ``users`` is empty
            and says nothing about who uses an app.
        source: ``graph`` or ``legacy``: where the data came from.
    """

    streams: tuple[DiscoveryStream, ...]
    apps: tuple[MergedApp, ...]
    users: Mapping[str, tuple[AppUser, ...]] = field(factory=dict)
    devices: Mapping[str, tuple[AppDevice, ...]] = field(factory=dict)
    app_info: Mapping[str, AppInfo] = field(factory=dict)
    complete: bool = True
    read_at: datetime = field(factory=lambda: datetime.now(timezone.utc))
    period: str = "P30D"
    max_risk_score: int = 10
    users_read: bool = True
    source: str = "graph"

    def app(self, app_id: str) -> MergedApp | None:
        """The merged app with this id, or ``None``."""
        for merged in self.apps:
            if merged.id == app_id:
                return merged
        return None

    def identifiers(self, app_id: str) -> tuple[str, ...]:
        """The distinct raw user identifiers of an app, in first-seen order."""
        return tuple(dict.fromkeys(u.identifier for u in self.users.get(app_id, ())))


def merge_apps(observations: Iterable[DiscoveredApp]) -> tuple[MergedApp, ...]:
    """Merge per-stream observations by app id; observations keep their order, apps go by id."""
    groups: dict[str, list[DiscoveredApp]] = {}
    for obs in observations:
        groups.setdefault(obs.id, []).append(obs)
    return tuple(
        MergedApp(app=_merged_view(groups[app_id]), observations=tuple(groups[app_id]))
        for app_id in sorted(groups, key=app_id_key)
    )


def app_id_key(app_id: str) -> tuple[int, int, str]:
    """Sort key for app ids: catalog ids (digits) numerically, then any others as text."""
    if app_id.isascii() and app_id.isdigit():
        # numeric order without int(): a 10,000-digit id must not hit Python's
        # integer-conversion limit (such an id is refused later, for that app only)
        digits = app_id.lstrip("0") or "0"
        return (0, len(digits), digits)
    return (1, 0, app_id)


def _merged_view(observations: Sequence[DiscoveredApp]) -> DiscoveredApp:
    # max() keeps the first of equal keys, so ties go to the earlier stream
    latest = max(observations, key=lambda o: o.last_seen or _EPOCH)
    ordered = [latest, *(o for o in observations if o is not latest)]
    devices = [o.device_count for o in observations if o.device_count is not None]
    return attrs.evolve(
        latest,
        tags=tuple(dict.fromkeys(t for o in ordered for t in o.tags)),
        domains=tuple(dict.fromkeys(d for o in ordered for d in o.domains)),
        user_count=max(o.user_count for o in observations),
        ip_address_count=max(o.ip_address_count for o in observations),
        transaction_count=max(o.transaction_count for o in observations),
        device_count=max(devices) if devices else None,
        upload_bytes=max(o.upload_bytes for o in observations),
        download_bytes=max(o.download_bytes for o in observations),
        stream_id=None,
    )


def merge_by_app(
    items: Iterable[_Item], key: Callable[[_Item], str]
) -> dict[str, tuple[_Item, ...]]:
    """Group users (or devices) by app id, dropping repeats of the same value in the same stream."""
    out: dict[str, dict[tuple[str, str], _Item]] = {}
    for item in items:
        out.setdefault(item.app_id, {}).setdefault((key(item), item.stream_id), item)
    return {app_id: tuple(seen.values()) for app_id, seen in out.items()}
