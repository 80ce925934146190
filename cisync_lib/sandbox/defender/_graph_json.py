"""Microsoft Graph's JSON for cloud-app discovery entities (beta ``microsoft.graph.security``).

The names are spelled out here rather than derived, so the sandbox says exactly
what Graph says (``displayName``, ``lastSeenDateTime``, ``deviceCount`` only on
endpoint items, ``@odata.type`` on every item) whatever the library's converter does.
This module is the sandbox's own field mapping, written from Graph's reference: it
never uses the library's converter or wire helpers, so a mapping bug in the library
shows up as a disagreement in the integration tests instead of being mirrored here.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # the generated tenant's records; only their attributes are read here
    from cisync_lib import AppInfo, DiscoveredApp, DiscoveryStream

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
    "iso_utc",
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

#: ``discoveredCloudAppInfo``'s plain properties (Graph reference), by generated attribute.
_APP_INFO_FIELDS = {
    "vendor": "vendor",
    "headquarters": "headquarters",
    "hosting_company": "hostingCompany",
    "founded": "founded",
    "holding": "holding",
    "data_center": "dataCenter",
    "logon_urls": "logonUrls",
    "csa_star_level": "csaStarLevel",
    "data_at_rest_encryption_method": "dataAtRestEncryptionMethod",
    "data_retention_policy": "dataRetentionPolicy",
    "data_types": "dataTypes",
    "fed_ramp_level": "fedRampLevel",
    "pci_dss_version": "pciDssVersion",
    "tls_encryption_protocol": "tlsEncryptionProtocol",
}
#: ``discoveredCloudAppInfo``'s DateTimeOffset properties.
_APP_INFO_TIMES = {
    "domain_registration": "domainRegistrationDateTime",
    "latest_breach": "latestBreachDateTime",
}


def iso_utc(value: datetime) -> str:
    """An ISO-8601 UTC timestamp with a ``Z``, as Graph writes DateTimeOffset values."""
    utc = value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return utc.isoformat().replace("+00:00", "Z")


def _time(value: datetime | None) -> str | None:
    return None if value is None else iso_utc(value)


def _flag_name(name: str) -> str:
    """``is_soc2_compliant`` -> ``isSoc2Compliant`` (Graph's ``cloudAppInfoState`` names)."""
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


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
    out: dict[str, Any] = {"@odata.type": f"#{APP_INFO}", "id": app_id}
    for attr, wire in _APP_INFO_FIELDS.items():
        out[wire] = _text(getattr(info, attr))
    for attr, wire in _APP_INFO_TIMES.items():
        out[wire] = _time(getattr(info, attr))
    for name, state in info.flags.items():
        out[_flag_name(name)] = "unknown" if state is None else ("true" if state else "false")
    return out


def user_json(identifier: str) -> dict[str, Any]:
    """A ``discoveredCloudAppUser``: nothing but the raw identifier."""
    return {"@odata.type": f"#{USER}", "userIdentifier": identifier}


def ip_json(address: str) -> dict[str, Any]:
    """A ``discoveredCloudAppIPAddress``."""
    return {"@odata.type": f"#{IP_ADDRESS}", "ipAddress": address}


def device_json(name: str) -> dict[str, Any]:
    """A ``discoveredCloudAppDevice``."""
    return {"@odata.type": f"#{DEVICE}", "name": name}
