"""The legacy REST shapes: streams with ``_id``, and the discovered-apps list with its filters.

Item names are the legacy API's own (``appId``, ``score``, ``usersCount``, ``lastUsed`` in
epoch milliseconds, ...), spelled out here from its documentation, not taken from the
library's legacy-key table, so the sandbox stays an independent oracle.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request

from cisync_lib.sandbox._tenant import ServedTenant

from ._graph_json import iso_utc

if TYPE_CHECKING:
    # the generated tenant's records; only their attributes are read here
    from cisync_lib import DiscoveredApp, DiscoveryStream

__all__ = ["LegacyError", "discovered_apps", "legacy_app", "legacy_stream"]

_LOG_TYPES = {"paloAlto": 112, "zscaler": 120, "squid": 107, "microsoftDefenderForEndpoint": 195}
_ENTITY_TYPES = {"user": 1, "ipAddress": 2, "machineName": 3, "resource": 4}
_TRAFFIC_TYPES = {"totalBytes": 1, "downloadedBytes": 2, "uploadedBytes": 3}
_TIMEFRAMES = {7: "P7D", 30: "P30D", 90: "P90D"}
_FILTER_FIELDS = {"score": "score", "users": "usersCount", "category": "category",
                  "ips": "ipAddressesCount", "transactions": "trafficTotalEvents"}  # fmt: skip
_SORT_FIELDS = {"name": "name", "score": "score", "users": "usersCount",
                "ips": "ipAddressesCount", "transactions": "trafficTotalEvents",
                "upload": "trafficUploadedBytes", "traffic": "trafficTotalBytes",
                "lastSeen": "lastUsed"}  # fmt: skip
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class LegacyError(Exception):
    """A refused request: status, the ``detail`` text, and ``Retry-After`` seconds for 429."""

    def __init__(self, status: int, detail: str, retry_after: int = 0) -> None:
        super().__init__(detail)
        self.status, self.detail, self.retry_after = status, detail, retry_after


def _iso(value: datetime | None) -> str | None:
    return None if value is None else iso_utc(value)


def legacy_stream(stream: DiscoveryStream) -> dict[str, Any]:
    """A stream as ``GET /api/discovery/streams/`` lists it."""
    provider = getattr(stream.log_data_provider, "value", stream.log_data_provider)
    out: dict[str, Any] = {
        "_id": stream.id,
        "displayName": stream.display_name,
        "streamType": 5 if stream.is_snapshot else 1,
        "logType": _LOG_TYPES.get(str(provider), 0),
        "receiverType": stream.receiver_protocol,
        "anonymizeUsers": stream.anonymize_users,
        "anonymizeMachines": stream.anonymize_devices,
        "globalAggregated": not stream.is_snapshot and not stream.is_endpoint,
        "created": _iso(stream.created),
        "lastModified": _iso(stream.last_modified),
        "lastDataReceived": _iso(stream.last_data_received),
        "supportedEntityTypes": [_ENTITY_TYPES.get(t, 0) for t in stream.supported_entity_types],
        "supportedTrafficTypes": [_TRAFFIC_TYPES.get(t, 0) for t in stream.supported_traffic_types],
        "logFilesHistoryCount": stream.log_file_count,
        "comment": stream.description,
    }
    if stream.is_endpoint:
        out["builtInStreamType"] = 1  # WINDOWS_DEFENDER: the Defender for Endpoint stream
    return out


def legacy_app(app: DiscoveredApp) -> dict[str, Any]:
    """An app as ``POST /api/v1/discovery/discovered_apps/`` lists it."""
    out: dict[str, Any] = {
        "appId": int(app.id),  # the portal API writes catalogue ids as numbers
        "name": app.name,
        "category": getattr(app.category, "value", app.category),
        "score": app.risk_score,
        "tags": list(app.tags),
        "domains": list(app.domains),
        "usersCount": app.user_count,
        "ipAddressesCount": app.ip_address_count,
        "trafficTotalEvents": app.transaction_count,
        "trafficUploadedBytes": app.upload_bytes,
        "trafficDownloadedBytes": app.download_bytes,
        "trafficTotalBytes": app.upload_bytes + app.download_bytes,  # the API's own total
        "lastUsed": None if app.last_seen is None else _epoch_ms(app.last_seen),
    }
    if app.device_count is not None:
        out["machinesCount"] = app.device_count
    return out


def _epoch_ms(value: datetime) -> int:
    return int((value - _EPOCH).total_seconds() * 1000)


PageCutter = Callable[[Request, list[dict[str, Any]]], list[dict[str, Any]]]


def discovered_apps(
    tenant: ServedTenant | None, request: Request, page_limit: int, cut: PageCutter
) -> dict[str, Any]:
    """Serve one discovered-apps request: ``{"data", "total", "hasNext"}``.

    Raises:
        LegacyError: 400 for a bad body, stream, timeframe, paging value or filter.
    """
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise LegacyError(400, "JSON parse error: the body must be a JSON object.")
    stream_id = body.get("streamId")
    if not isinstance(stream_id, str) or not stream_id:
        raise LegacyError(400, "streamId is required.")
    if tenant is None or stream_id not in {s.id for s in tenant.streams}:
        raise LegacyError(400, f"Invalid streamId: {stream_id}.")
    timeframe = _integer(body, "timeframe", 90)
    if timeframe not in _TIMEFRAMES:
        raise LegacyError(400, f"Invalid timeframe {timeframe}: use 7, 30 or 90.")
    if _TIMEFRAMES[timeframe] not in tenant.periods:  # a tenant file records one period
        raise LegacyError(
            400, f"The sandbox's tenant file holds {', '.join(tenant.periods)} only, not "
            f"timeframe {timeframe}.",
        )  # fmt: skip
    skip = _integer(body, "skip", 0)
    limit = _integer(body, "limit", page_limit)
    if skip < 0 or limit < 1:
        raise LegacyError(400, "skip must be 0 or more and limit 1 or more.")
    items = [legacy_app(a) for a in tenant.apps(_TIMEFRAMES[timeframe], stream_id)]
    items = [i for i in items if _matches(i, body.get("filters") or {})]
    items = _sorted(items, body.get("sortField"), body.get("sortDirection", "desc"))
    page = cut(request, items[skip : skip + min(limit, page_limit)])
    return {"data": page, "total": len(items), "hasNext": skip + len(page) < len(items)}


def _integer(body: dict[str, Any], key: str, default: int) -> int:
    value = body.get(key, default)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise LegacyError(400, f"{key} must be an integer, got {value!r}.")
    return value


def _matches(item: dict[str, Any], filters: object) -> bool:
    if not isinstance(filters, dict):
        raise LegacyError(400, "filters must be an object.")
    for name, condition in filters.items():
        column = _FILTER_FIELDS.get(name)
        if column is None or not isinstance(condition, dict):
            raise LegacyError(400, f"Unsupported filter: {name}.")
        for op, value in condition.items():
            if not _test(item[column], op, value):
                return False
    return True


def _test(actual: Any, op: str, value: Any) -> bool:
    if op == "eq" and isinstance(value, list):
        if len(value) == 2 and all(isinstance(v, int) for v in value):
            return bool(value[0] <= actual <= value[1])  # the score range form
        return actual in value
    tests = {"eq": lambda: actual == value, "neq": lambda: actual != value,
             "gt": lambda: actual > value, "gte": lambda: actual >= value,
             "lt": lambda: actual < value, "lte": lambda: actual <= value}  # fmt: skip
    if op not in tests or (op not in ("eq", "neq") and not isinstance(value, int)):
        raise LegacyError(400, f"Unsupported filter operator: {op}.")
    return bool(tests[op]())


def _sorted(items: list[dict[str, Any]], field: object, direction: object) -> list[dict[str, Any]]:
    if field is None:
        return items
    column = _SORT_FIELDS.get(str(field))
    if column is None or direction not in ("asc", "desc"):
        raise LegacyError(400, f"Unsupported sort: {field} {direction}.")
    return sorted(items, key=lambda i: (i[column] is None, i[column]), reverse=direction == "desc")
