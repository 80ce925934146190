"""Expected wire JSON, written from the Graph reference (defender-api.md 2.6) and the legacy
key table, independently of the sandbox's own serializers."""

from datetime import datetime, timezone

NS = "#microsoft.graph.security."


def ts(value):
    return None if value is None else value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def enum(value):
    return getattr(value, "value", value)


def graph_stream(s):
    return {
        "@odata.type": NS + "cloudAppDiscoveryReport",
        "id": s.id,
        "displayName": s.display_name,
        "description": s.description,
        "createdDateTime": ts(s.created),
        "lastModifiedDateTime": ts(s.last_modified),
        "lastDataReceivedDateTime": ts(s.last_data_received),
        "isSnapshotReport": s.is_snapshot,
        "anonymizeUserData": s.anonymize_users,
        "anonymizeMachineData": s.anonymize_devices,
        "logDataProvider": enum(s.log_data_provider),
        "receiverProtocol": s.receiver_protocol,
        "supportedEntityTypes": list(s.supported_entity_types),
        "supportedTrafficTypes": list(s.supported_traffic_types),
        "logFileCount": s.log_file_count,
    }


def graph_app(a):
    out = {
        "@odata.type": NS
        + (
            "endpointDiscoveredCloudAppDetail"
            if a.device_count is not None
            else "discoveredCloudAppDetail"
        ),
        "id": a.id,
        "displayName": a.name,
        "tags": list(a.tags),
        "riskScore": a.risk_score,
        "lastSeenDateTime": ts(a.last_seen),
        "domains": list(a.domains),
        "category": enum(a.category),
        "userCount": a.user_count,
        "ipAddressCount": a.ip_address_count,
        "transactionCount": a.transaction_count,
        "uploadNetworkTrafficInBytes": a.upload_bytes,
        "downloadNetworkTrafficInBytes": a.download_bytes,
    }
    if a.device_count is not None:
        out["deviceCount"] = a.device_count
    return out


def camel(snake):
    head, *rest = snake.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def graph_app_info(app_id, info):
    out = {
        "@odata.type": NS + "discoveredCloudAppInfo",
        "id": app_id,
        "vendor": info.vendor,
        "headquarters": info.headquarters,
        "hostingCompany": info.hosting_company,
        "founded": info.founded,
        "holding": enum(info.holding),
        "dataCenter": info.data_center,
        "logonUrls": info.logon_urls,
        "domainRegistrationDateTime": ts(info.domain_registration),
        "latestBreachDateTime": ts(info.latest_breach),
        "csaStarLevel": info.csa_star_level,
        "dataAtRestEncryptionMethod": info.data_at_rest_encryption_method,
        "dataRetentionPolicy": info.data_retention_policy,
        "dataTypes": info.data_types,
        "fedRampLevel": info.fed_ramp_level,
        "pciDssVersion": info.pci_dss_version,
        "tlsEncryptionProtocol": info.tls_encryption_protocol,
    }
    for name, value in info.flags.items():
        out[camel(name)] = {True: "true", False: "false", None: "unknown"}[value]
    return out


def legacy_stream_subset(s):
    """The legacy stream fields with a documented meaning we can check."""
    return {
        "_id": s.id,
        "displayName": s.display_name,
        "streamType": 5 if s.is_snapshot else 1,
        "anonymizeUsers": s.anonymize_users,
        "anonymizeMachines": s.anonymize_devices,
        "created": ts(s.created),
        "lastDataReceived": ts(s.last_data_received),
        "builtInStreamType": 1 if s.is_endpoint else None,
    }


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def legacy_app(a):
    out = {
        "appId": int(a.id),
        "name": a.name,
        "category": enum(a.category),
        "score": a.risk_score,
        "tags": list(a.tags),
        "domains": list(a.domains),
        "usersCount": a.user_count,
        "ipAddressesCount": a.ip_address_count,
        "trafficTotalEvents": a.transaction_count,
        "trafficUploadedBytes": a.upload_bytes,
        "trafficDownloadedBytes": a.download_bytes,
        "trafficTotalBytes": a.upload_bytes + a.download_bytes,
        "lastUsed": round((a.last_seen - EPOCH).total_seconds() * 1000),
    }
    if a.device_count is not None:
        out["machinesCount"] = a.device_count
    return out


def function_segment(period, short=False):
    name = "aggregatedAppsDetails" if short else "microsoft.graph.security.aggregatedAppsDetails"
    return f"{name}(period=duration'{period}')"
