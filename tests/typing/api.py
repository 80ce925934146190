"""Never executed: mypy --strict checks that an embedder's use of the public API type-checks."""

from __future__ import annotations

from datetime import datetime, timezone

import cisync_lib
from cisync_lib import (
    AppUser,
    CisyncError,
    DefenderPayloadError,
    DiscoveredApp,
    SnUser,
    make_converter,
    structure_payload,
)
from cisync_lib.correlation import ReasonCode, Status


def read_page(payload: object) -> list[DiscoveredApp]:
    conv = make_converter(strict=False)
    try:
        return structure_payload(payload, list[DiscoveredApp], converter=conv)
    except DefenderPayloadError as exc:
        problems: list[str] = list(exc.problems)
        raise CisyncError(message="; ".join(problems)) from exc


def newest(apps: list[DiscoveredApp]) -> datetime:
    seen = [a.last_seen for a in apps if a.last_seen is not None]
    return max(seen, default=datetime(1970, 1, 1, tzinfo=timezone.utc))


def user_for(row: dict[str, str]) -> SnUser:
    return SnUser.from_row(row)


def describe(user: AppUser, status: Status, reason: ReasonCode) -> str:
    return f"{user.identifier}: {status.value}/{reason.value} ({cisync_lib.__version__})"
