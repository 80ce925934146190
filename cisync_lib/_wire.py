"""Wire knowledge: Graph and legacy REST names, and Microsoft's timestamp formats.

Only :mod:`cisync_lib._converter` and :mod:`cisync_lib._payload` use this
module; models never see wire names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone

from ._models import AppInfo, AppUser, DiscoveredApp, DiscoveryStream

__all__ = [
    "FLAG_KEY",
    "LEGACY_KEYS",
    "RENAMES",
    "TRISTATE",
    "format_timestamp",
    "from_legacy",
    "parse_timestamp",
    "to_camel",
    "to_snake",
    "wire_name",
]

#: Wire names that are not the plain camelCase of the model's field name.
RENAMES: Mapping[type, Mapping[str, str]] = {
    DiscoveryStream: {
        "is_snapshot": "isSnapshotReport",
        "anonymize_users": "anonymizeUserData",
        "anonymize_devices": "anonymizeMachineData",
        "created": "createdDateTime",
        "last_modified": "lastModifiedDateTime",
        "last_data_received": "lastDataReceivedDateTime",
    },
    DiscoveredApp: {
        "name": "displayName",
        "upload_bytes": "uploadNetworkTrafficInBytes",
        "download_bytes": "downloadNetworkTrafficInBytes",
        "last_seen": "lastSeenDateTime",
    },
    AppInfo: {
        "domain_registration": "domainRegistrationDateTime",
        "latest_breach": "latestBreachDateTime",
    },
    AppUser: {"identifier": "userIdentifier"},
}

#: Legacy Defender for Cloud Apps REST keys, translated to their Graph names
#: before structuring. ``None`` marks keys that are read but not modelled.
LEGACY_KEYS: Mapping[type, Mapping[str, str | None]] = {
    DiscoveryStream: {
        "_id": "id",
        "displayName": "displayName",
        "anonymizeUsers": "anonymizeUserData",
        "anonymizeMachines": "anonymizeMachineData",
        "created": "createdDateTime",
        "lastModified": "lastModifiedDateTime",
        "lastDataReceived": "lastDataReceivedDateTime",
        "supportedEntityTypes": "supportedEntityTypes",
        "supportedTrafficTypes": "supportedTrafficTypes",
        "logFilesHistoryCount": "logFileCount",
        "comment": "description",
        "receiverType": "receiverProtocol",
        # consumed by _legacy_stream below, or deliberately not modelled
        "streamType": None,
        "builtInStreamType": None,
        "logType": None,
        "protocol": None,
        "globalAggregated": None,
        "timeFrames": None,
        "timeFrames2": None,
        "isManual": None,
        "snapshotData": None,
        "userTags": None,
    },
    DiscoveredApp: {
        "appId": "id",
        "name": "displayName",
        "category": "category",
        "score": "riskScore",
        "tags": "tags",
        "domains": "domains",
        "usersCount": "userCount",
        "ipAddressesCount": "ipAddressCount",
        "machinesCount": "deviceCount",
        "trafficTotalEvents": "transactionCount",
        "trafficUploadedBytes": "uploadNetworkTrafficInBytes",
        "trafficDownloadedBytes": "downloadNetworkTrafficInBytes",
        "lastUsed": "lastSeenDateTime",
        "trafficTotalBytes": None,
    },
}
_LEGACY_SNAPSHOT_STREAM_TYPE = 5
_LEGACY_MDE_BUILTIN_TYPE = 1

#: Graph's cloudAppInfoState strings as a Python tri-state.
TRISTATE = {"true": True, "false": False, "unknown": None, "unknownfuturevalue": None}
#: AppInfo keys that carry a yes/no/unknown fact.
FLAG_KEY = re.compile(r"^is[A-Z0-9]")
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)


def to_camel(name: str) -> str:
    """``last_seen`` -> ``lastSeen``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def to_snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def wire_name(cls: type, attr: str) -> str:
    return RENAMES.get(cls, {}).get(attr, to_camel(attr))


def parse_timestamp(value: object) -> datetime:
    """Read a timestamp the way Microsoft's APIs write them, as aware UTC.

    Accepts ``datetime``/``date`` objects, ISO-8601 strings with or without
    time, fraction (up to 9 digits) or offset, and epoch milliseconds.
    """
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=value)
    if not isinstance(value, str):
        raise ValueError(f"expected a timestamp string, got {type(value).__name__}")
    match = _TIMESTAMP.match(value.strip())
    if not match:
        raise ValueError(f"not an ISO-8601 date or timestamp: {value!r}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = timezone.utc
    if offset and offset.upper() != "Z":
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    parsed = datetime(
        int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
        micro, tzinfo=tz,
    )  # fmt: skip
    return parsed.astimezone(timezone.utc)


def format_timestamp(value: datetime) -> str:
    """Write an aware datetime as ISO-8601 UTC with a ``Z``."""
    utc = value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return utc.isoformat().replace("+00:00", "Z")


def from_legacy(data: object, cls: type, *, strict: bool = False) -> object:
    """Translate one legacy REST object into the Graph shape of ``cls``.

    Unknown legacy keys are dropped, or kept (so the strict converter
    reports them) when ``strict`` is set.
    """
    mapping = LEGACY_KEYS.get(cls)
    if mapping is None or not isinstance(data, Mapping):
        return data
    out: dict[str, object] = {}
    for key, value in data.items():
        if key in mapping:
            target = mapping[key]
            if target is not None:
                out[target] = value
        elif strict:
            out[key] = value
    if cls is DiscoveryStream:
        out.setdefault("isSnapshotReport", data.get("streamType") == _LEGACY_SNAPSHOT_STREAM_TYPE)
        if data.get("builtInStreamType") == _LEGACY_MDE_BUILTIN_TYPE:
            out.setdefault("logDataProvider", "microsoftDefenderForEndpoint")
    return out
