"""Snapshots: one read saved as versioned JSON, and replayed as a source.

Layout (version 1)::

    {"format": "cisync-defender-snapshot", "version": 1, "writtenBy": "cisync-lib 0.1.0",
     "data": {"streams": [...], "apps": [{"app": {...}, "observations": [...]}],
              "users": {"<app id>": [...]}, "devices": {...}, "appInfo": {...},
              "complete": true, "readAt": "...Z", "period": "P30D", "maxRiskScore": 10,
              "usersRead": true, "source": "graph"}}

Models are written with the library's converter (Graph's camelCase names),
so a snapshot reads like the API's own payloads. No connection details,
secrets or tokens are ever part of it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TypeVar

import attrs

from cisync_lib._converter import make_converter
from cisync_lib._documents import DocumentKind
from cisync_lib._models import AppUser
from cisync_lib._payload import structure_payload
from cisync_lib._version import __version__
from cisync_lib.errors import DefenderPayloadError, SnapshotError

from ._data import AppDevice, DefenderData, ProgressCallback, ReadProgress, merge_apps
from ._reader import check_risk_score, normalize_period, select_streams

__all__ = ["SNAPSHOT_VERSION", "SnapshotSource", "load_snapshot", "save_snapshot"]

SNAPSHOT_VERSION = 1
#: snapshot files: owner-only (they hold user identifiers)
SNAPSHOT_DOCUMENT = DocumentKind(
    name="snapshot",
    format="cisync-defender-snapshot",
    version=SNAPSHOT_VERSION,
    error=SnapshotError,
)
_CONVERTER = make_converter()
_Item = TypeVar("_Item", AppUser, AppDevice)


def save_snapshot(data: DefenderData, path: str | os.PathLike[str]) -> None:
    """Write ``data`` to ``path`` as a versioned JSON snapshot (atomic, owner-only permissions).

    Raises:
        SnapshotError: the file could not be written.
    """
    body = {"writtenBy": f"cisync-lib {__version__}", "data": _CONVERTER.unstructure(data)}
    try:
        SNAPSHOT_DOCUMENT.write(path, body)
    except OSError as exc:
        raise SNAPSHOT_DOCUMENT.fail(path, f"cannot write: {exc.strerror}") from exc


def load_snapshot(path: str | os.PathLike[str]) -> DefenderData:
    """Read a snapshot written by :func:`save_snapshot`.

    Raises:
        SnapshotError: the file is missing, not JSON, of an unknown format or
            version, or has a bad value (naming the file and the value's JSON path).
    """
    name = os.fspath(path)
    document = SNAPSHOT_DOCUMENT.read(name)
    SNAPSHOT_DOCUMENT.check(document, source=name)
    if "data" not in document:
        raise SNAPSHOT_DOCUMENT.fail(name, "required key missing", "$.data")
    try:
        return structure_payload(
            document["data"], DefenderData, converter=_CONVERTER, request=name, path="$.data"
        )
    except DefenderPayloadError as exc:
        if len(exc.problems) == 1 and " @ " in exc.problems[0]:
            what, where = exc.problems[0].rsplit(" @ ", 1)
            raise SNAPSHOT_DOCUMENT.fail(name, what, where) from exc
        raise SNAPSHOT_DOCUMENT.fail(name, "; ".join(exc.problems), "$.data") from exc


class SnapshotSource:
    """Replays a snapshot as a source: offline runs, notebooks, incidents, support cases.

    Args:
        path: the snapshot file.
    """

    kind = "snapshot"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)

    def read(
        self,
        *,
        period: str | int | None = None,
        max_risk_score: int = 10,
        streams: Sequence[str] | None = None,
        include_users: bool = True,
        include_devices: bool = True,
        include_app_info: bool = False,
        progress: ProgressCallback | None = None,
    ) -> DefenderData:
        """Return the recorded data, narrowed by the same options as a live read.

        Asking for more than was recorded (another period, a higher risk
        score, users or catalog info that were not read) raises instead of
        returning less.

        Raises:
            SnapshotError: the file is bad, incomplete, or does not hold what is asked for.
            ConfigError: an unknown period or risk score, or a stream selection that
                is empty or names a stream the snapshot does not hold.
        """
        data = load_snapshot(self.path)
        if not data.complete:
            raise SnapshotError(
                file=self.path, problem="holds an incomplete read", json_path="$.data.complete"
            )
        if period is not None and normalize_period(period) != data.period:
            self._refuse(f"holds {data.period}, not {normalize_period(period)}", "$.data.period")
        if check_risk_score(max_risk_score) > data.max_risk_score:
            self._refuse(
                f"holds apps up to risk score {data.max_risk_score}", "$.data.maxRiskScore"
            )
        if include_users and not data.users_read:
            self._refuse("was recorded without users", "$.data.usersRead")
        if include_app_info and data.apps and not data.app_info:
            self._refuse("was recorded without catalog info", "$.data.appInfo")
        narrowed = _narrow(data, max_risk_score, streams, include_users, include_devices)
        if not include_app_info:
            narrowed = attrs.evolve(narrowed, app_info={})
        if progress is not None:
            observations = sum(len(m.observations) for m in narrowed.apps)
            progress(
                ReadProgress(
                    phase="done",
                    streams_read=len(narrowed.streams),
                    streams_total=len(narrowed.streams),
                    apps_read=observations,
                    apps_total=observations,
                    users_read=sum(len(u) for u in narrowed.users.values()),
                )
            )
        return narrowed

    def _refuse(self, problem: str, json_path: str) -> None:
        raise SnapshotError(file=self.path, problem=problem, json_path=json_path)


def _narrow(
    data: DefenderData,
    max_risk_score: int,
    streams: Sequence[str] | None,
    include_users: bool,
    include_devices: bool,
) -> DefenderData:
    chosen = data.streams if streams is None else select_streams(data.streams, streams)
    if (
        chosen == data.streams
        and max_risk_score >= data.max_risk_score
        and include_users
        and include_devices
    ):
        return data
    ids = {s.id for s in chosen}
    observations = [
        o
        for m in data.apps
        for o in m.observations
        if o.stream_id in ids and o.risk_score <= max_risk_score
    ]
    merged = merge_apps(observations)
    kept = {m.id for m in merged}
    # users were read per (app, stream) listing: none for an observation dropped here
    listed = {(o.id, o.stream_id or "") for o in observations}

    users = {a: _in(u, listed) for a, u in data.users.items() if a in kept} if include_users else {}
    devices = (
        {a: _in(d, listed) for a, d in data.devices.items() if a in kept} if include_devices else {}
    )
    return attrs.evolve(
        data,
        streams=tuple(chosen),
        apps=merged,
        users={a: u for a, u in users.items() if u},
        devices={a: d for a, d in devices.items() if d},
        app_info={a: i for a, i in data.app_info.items() if a in kept},
        max_risk_score=min(max_risk_score, data.max_risk_score),
        users_read=include_users,
    )


def _in(items: tuple[_Item, ...], listed: set[tuple[str, str]]) -> tuple[_Item, ...]:
    return tuple(i for i in items if (i.app_id, i.stream_id) in listed)
