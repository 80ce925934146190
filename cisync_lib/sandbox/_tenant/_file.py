"""Serving your own Defender data: a tenant read from a snapshot file (``--tenant FILE``).

The file is a Defender snapshot as :meth:`cisync_lib.defender.DefenderData.save`
writes it (format ``cisync-defender-snapshot``, documented on the
``sandbox-defender`` docs page): its streams, the per-stream observations of
each app, the users and devices read per app and stream, and the catalog info.
A snapshot records one period, so the tenant serves that period only; the
sandbox refuses the others with a 400 rather than inventing data for them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Protocol

from cisync_lib import AppInfo, DiscoveredApp, DiscoveryStream, SnUser

__all__ = ["ServedTenant", "SnapshotTenant"]


class ServedTenant(Protocol):
    """What the Graph and legacy services serve: a generated tenant or a snapshot's data."""

    @property
    def streams(self) -> tuple[DiscoveryStream, ...]:
        """The discovery streams."""
        ...

    @property
    def periods(self) -> tuple[str, ...]:
        """The report periods the tenant has data for (``P7D``, ``P30D``, ``P90D``)."""
        ...

    @property
    def app_info(self) -> Mapping[str, AppInfo]:
        """Catalog information per app id."""
        ...

    @property
    def sys_users(self) -> tuple[SnUser, ...]:
        """``sys_user`` rows to load into the ServiceNow store."""
        ...

    @property
    def users_recorded(self) -> bool:
        """Whether the tenant knows the users of its apps (a snapshot may not)."""
        ...

    def apps(self, period: str, stream_id: str) -> tuple[DiscoveredApp, ...]:
        """The apps a stream saw in ``period``."""
        ...

    def app(self, period: str, stream_id: str, app_id: str) -> DiscoveredApp | None:
        """One app as a stream saw it in ``period``, or ``None``."""
        ...

    def users(self, period: str, stream_id: str, app_id: str) -> tuple[str, ...]:
        """Raw user identifiers of an app in a stream and period."""
        ...

    def devices(self, period: str, stream_id: str, app_id: str) -> tuple[str, ...]:
        """Device names of an app in an endpoint stream and period."""
        ...

    def ip_addresses(self, period: str, stream_id: str, app_id: str) -> tuple[str, ...]:
        """IP addresses of an app in a stream and period."""
        ...


class SnapshotTenant:
    """A Defender tenant whose data comes from a snapshot file.

    Build it with :meth:`load`. IP addresses are not part of a snapshot, so
    every app lists none; no ``sys_user`` rows come with it (seed them with
    ``sb.store`` or a state folder). What the snapshot was recorded without
    (users, catalog info) is refused by Graph with 400, never served as empty.

    Attributes:
        path: the file it was read from.
        streams: the snapshot's streams.
        periods: the one period the snapshot holds.
        app_info: the snapshot's catalog info (empty if it was read without it).
        sys_users: always empty.
        users_recorded: whether the snapshot was read with users.
    """

    sys_users: tuple[SnUser, ...] = ()

    def __init__(self, path: str | os.PathLike[str]) -> None:
        # lazy: start-up time (the library's reader loads msal; only a tenant file needs it)
        from cisync_lib.defender import load_snapshot

        self.path = os.fspath(path)
        data = load_snapshot(self.path)
        self.streams: tuple[DiscoveryStream, ...] = data.streams
        self.periods: tuple[str, ...] = (data.period,)
        self.users_recorded = data.users_read
        self.app_info: Mapping[str, AppInfo] = data.app_info
        by_stream: dict[str, list[DiscoveredApp]] = {s.id: [] for s in data.streams}
        for merged in data.apps:
            for observation in merged.observations:
                by_stream.setdefault(observation.stream_id or "", []).append(observation)
        # as Graph lists them: most used first
        self._apps = {
            stream: tuple(sorted(apps, key=lambda a: (-a.user_count, a.id)))
            for stream, apps in by_stream.items()
        }
        self._users: dict[tuple[str, str], list[str]] = {}
        for app_id, users in data.users.items():
            for user in users:
                self._users.setdefault((user.stream_id, app_id), []).append(user.identifier)
        self._devices: dict[tuple[str, str], list[str]] = {}
        for app_id, devices in data.devices.items():
            for device in devices:
                self._devices.setdefault((device.stream_id, app_id), []).append(device.name)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SnapshotTenant:
        """Read a snapshot file.

        Raises:
            SnapshotError: the file is missing, not a snapshot, or has a bad value.
        """
        return cls(path)

    def apps(self, period: str, stream_id: str) -> tuple[DiscoveredApp, ...]:
        """The apps a stream saw (empty for a period the snapshot does not hold)."""
        return self._apps.get(stream_id, ()) if period in self.periods else ()

    def app(self, period: str, stream_id: str, app_id: str) -> DiscoveredApp | None:
        """One app as a stream saw it, or ``None``."""
        return next((a for a in self.apps(period, stream_id) if a.id == app_id), None)

    def users(self, period: str, stream_id: str, app_id: str) -> tuple[str, ...]:
        """The user identifiers the snapshot recorded for the app in that stream."""
        if period not in self.periods:
            return ()
        return tuple(self._users.get((stream_id, app_id), ()))

    def devices(self, period: str, stream_id: str, app_id: str) -> tuple[str, ...]:
        """The device names the snapshot recorded for the app in that stream."""
        if period not in self.periods:
            return ()
        return tuple(self._devices.get((stream_id, app_id), ()))

    def ip_addresses(self, period: str, stream_id: str, app_id: str) -> tuple[str, ...]:
        """Always empty: snapshots do not record IP addresses."""
        return ()

    def __repr__(self) -> str:
        return f"SnapshotTenant(path={self.path!r}, period={self.periods[0]!r})"
