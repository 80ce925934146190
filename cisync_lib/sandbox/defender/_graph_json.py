"""Microsoft Graph's JSON for cloud-app discovery entities (beta ``microsoft.graph.security``).

The names are spelled out here rather than derived, so the sandbox says exactly
what Graph says (``displayName``, ``lastSeenDateTime``, ``deviceCount`` only on
endpoint items, ``@odata.type`` on every item) whatever the library's converter does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cisync_lib._converter import make_converter
from cisync_lib._models import AppInfo, DiscoveredApp, DiscoveryStream
from cisync_lib._wire import format_timestamp

__all__ = [
    "APP",
    "APP_INFO",
    "DEVICE",
    "ENDPOINT_APP",
    "IP_ADDRESS",
    "PROPERTIES",
    "STREAM",
    "USER",
    "app_info_json",
    "app_json",
    "device_json",
    "ip_json",
    "stream_json",
    "user_json",
]

NS = "microsoft.graph.security"
STREAM = f"{NS}.cloudAppDiscoveryReport"
APP = f"{NS}.discoveredCloudAppDetail"
ENDPOINT_APP = f"{NS}.endpointDiscoveredCloudAppDetail"
APP_INFO = f"{NS}.discoveredCloudAppInfo"
USER = f"{NS}.discoveredCloudAppUser"
IP_ADDRESS = f"{NS}.discoveredCloudAppIPAddress"
DEVICE = f"{NS}.discoveredCloudAppDevice"

_APP_PROPERTIES = (
    "id", "displayName", "tags", "riskScore", "lastSeenDateTime", "domains", "category",
    "userCount", "ipAddressCount", "transactionCount", "uploadNetworkTrafficInBytes",
    "downloadNetworkTrafficInBytes",
)  # fmt: skip
#: the properties of each entity type, for ``$select`` and ``$filter`` checks.
PROPERTIES: dict[str, tuple[str, ...]] = {
    STREAM: (
        "id", "displayName", "description", "createdDateTime", "lastModifiedDateTime",
        "lastDataReceivedDateTime", "isSnapshotReport", "anonymizeUserData",
        "anonymizeMachineData", "logDataProvider", "receiverProtocol", "supportedEntityTypes",
        "supportedTrafficTypes", "logFileCount",
    ),
    APP: _APP_PROPERTIES,
    ENDPOINT_APP: (*_APP_PROPERTIES, "deviceCount"),
    USER: ("userIdentifier",),
    IP_ADDRESS: ("ipAddress",),
    DEVICE: ("name",),
}  # fmt: skip

_CONVERTER = make_converter()


def _time(value: datetime | None) -> str | None:
    return None if value is None else format_timestamp(value)


def _text(value: object) -> object:
    return getattr(value, "value", value)  # enum members are written as their value


def stream_json(stream: DiscoveryStream) -> dict[str, Any]:
    """A ``cloudAppDiscoveryReport``."""
    return {
        "@odata.type": f"#{STREAM}",
        "id": stream.id,
        "displayName": stream.display_name,
        "description": stream.description,
        "createdDateTime": _time(stream.created),
        "lastModifiedDateTime": _time(stream.last_modified),
        "lastDataReceivedDateTime": _time(stream.last_data_received),
        "isSnapshotReport": stream.is_snapshot,
        "anonymizeUserData": stream.anonymize_users,
        "anonymizeMachineData": stream.anonymize_devices,
        "logDataProvider": _text(stream.log_data_provider),
        "receiverProtocol": stream.receiver_protocol,
        "supportedEntityTypes": list(stream.supported_entity_types),
        "supportedTrafficTypes": list(stream.supported_traffic_types),
        "logFileCount": stream.log_file_count,
    }


def app_json(app: DiscoveredApp) -> dict[str, Any]:
    """A ``discoveredCloudAppDetail``, or an ``endpointDiscoveredCloudAppDetail`` with devices."""
    out: dict[str, Any] = {
        "@odata.type": f"#{ENDPOINT_APP if app.device_count is not None else APP}",
        "id": app.id,
        "displayName": app.name,
        "tags": list(app.tags),
        "riskScore": app.risk_score,
        "lastSeenDateTime": _time(app.last_seen),
        "domains": list(app.domains),
        "category": _text(app.category),
        "userCount": app.user_count,
        "ipAddressCount": app.ip_address_count,
        "transactionCount": app.transaction_count,
        "uploadNetworkTrafficInBytes": app.upload_bytes,
        "downloadNetworkTrafficInBytes": app.download_bytes,
    }
    if app.device_count is not None:
        out["deviceCount"] = app.device_count
    return out


def app_info_json(app_id: str, info: AppInfo) -> dict[str, Any]:
    """A ``discoveredCloudAppInfo`` (``is*`` facts as ``true``/``false``/``unknown``)."""
    body: dict[str, Any] = _CONVERTER.unstructure(info)
    return {"@odata.type": f"#{APP_INFO}", "id": app_id, **body}


def user_json(identifier: str) -> dict[str, Any]:
    """A ``discoveredCloudAppUser``: nothing but the raw identifier."""
    return {"@odata.type": f"#{USER}", "userIdentifier": identifier}


def ip_json(address: str) -> dict[str, Any]:
    """A ``discoveredCloudAppIPAddress``."""
    return {"@odata.type": f"#{IP_ADDRESS}", "ipAddress": address}


def device_json(name: str) -> dict[str, Any]:
    """A ``discoveredCloudAppDevice``."""
    return {"@odata.type": f"#{DEVICE}", "name": name}
