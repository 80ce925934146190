"""The converter: every example shape from the Defender reference, round trips, errors."""

import json
from datetime import datetime, timezone

import pytest
from hypothesis import given

from cisync_lib import (
    AppCategory,
    AppInfo,
    AppUser,
    DefenderPayloadError,
    DiscoveredApp,
    DiscoveryStream,
    LogDataProvider,
    SanctionState,
    make_converter,
    structure_payload,
)
from tests import strategies as sts

STRICT = make_converter(strict=True)
LENIENT = make_converter()

# --- every example JSON shape of shared/reference/defender-api.md ---------------

G2_PAGE = json.loads(r"""
{
  "@odata.context": "https://graph.microsoft.com/beta/$metadata#Collection(microsoft.graph.security.discoveredCloudAppDetail)",
  "value": [
    {"@odata.type": "#microsoft.graph.security.discoveredCloudAppDetail",
     "id": "20893", "displayName": "Dropbox", "category": "cloudStorage",
     "riskScore": 9, "tags": ["Unsanctioned"],
     "domains": ["*.dropbox.com", "*.dropboxapi.com"],
     "userCount": 41, "ipAddressCount": 17, "transactionCount": 5230,
     "uploadNetworkTrafficInBytes": 734003200, "downloadNetworkTrafficInBytes": 2147483648,
     "lastSeenDateTime": "2025-01-06T00:00:00Z"}
  ],
  "@odata.nextLink": "https://graph.microsoft.com/beta/security/dataDiscovery/cloudAppDiscovery/uploadedStreams/5fc7b832ec839dcf131de937/microsoft.graph.security.aggregatedAppsDetails(period=duration'P90D')?$skiptoken=..."
}
""")

G5_PAGE = json.loads(r"""
{"value": [
  {"@odata.type": "#microsoft.graph.security.discoveredCloudAppUser", "userIdentifier": "broderick@fabrikam.com"},
  {"@odata.type": "#microsoft.graph.security.discoveredCloudAppUser", "userIdentifier": "FABRIKAM\\jdoe"},
  {"@odata.type": "#microsoft.graph.security.discoveredCloudAppUser", "userIdentifier": "AnonymousUser"}
]}
""")

R1_STREAMS = json.loads(r"""
{"streams": [
  {"_id": "5fc7b832ec839dcf131de937", "displayName": "Global View", "streamType": 3,
   "globalAggregated": true, "anonymizeUsers": false,
   "supportedEntityTypes": [1, 2], "supportedTrafficTypes": [1, 2, 3],
   "created": "2020-12-16T17:23:40.687Z", "lastDataReceived": "2025-01-05T06:33:32.908Z"},
  {"_id": "64a75731967076e7d6bd00ea", "displayName": "Defender-managed endpoints",
   "builtInStreamType": 1, "logType": 195, "streamType": 1, "anonymizeMachines": false,
   "supportedEntityTypes": [1, 2, 3]}
]}
""")


def test_g2_page_structures_strictly():
    (app,) = structure_payload(G2_PAGE["value"], list[DiscoveredApp], converter=STRICT)
    assert app.id == "20893"
    assert app.name == "Dropbox"
    assert app.category is AppCategory.CLOUD_STORAGE
    assert app.risk_score == 9
    assert app.sanction_state is SanctionState.UNSANCTIONED
    assert app.domains == ("*.dropbox.com", "*.dropboxapi.com")
    assert app.total_bytes == 734003200 + 2147483648
    assert app.last_seen == datetime(2025, 1, 6, tzinfo=timezone.utc)
    assert not app.is_endpoint


def test_g5_page_structures_strictly_and_keeps_identifiers_verbatim():
    users = structure_payload(G5_PAGE["value"], list[AppUser], converter=STRICT)
    assert [u.identifier for u in users] == [
        "broderick@fabrikam.com",
        "FABRIKAM\\jdoe",
        "AnonymousUser",
    ]


def test_legacy_streams_structure_strictly():
    streams = structure_payload(
        R1_STREAMS["streams"], list[DiscoveryStream], converter=STRICT, legacy=True
    )
    assert [s.id for s in streams] == ["5fc7b832ec839dcf131de937", "64a75731967076e7d6bd00ea"]
    assert streams[0].display_name == "Global View"
    assert streams[0].created == datetime(2020, 12, 16, 17, 23, 40, 687000, tzinfo=timezone.utc)
    assert streams[1].log_data_provider is LogDataProvider.MICROSOFT_DEFENDER_FOR_ENDPOINT
    assert streams[1].is_endpoint
    assert not any(s.is_snapshot for s in streams)


def test_legacy_snapshot_stream_type_is_a_snapshot():
    (stream,) = structure_payload(
        [{"_id": "a" * 24, "displayName": "upload", "streamType": 5}],
        list[DiscoveryStream],
        converter=STRICT,
        legacy=True,
    )
    assert stream.is_snapshot


def test_legacy_discovered_app_maps_its_names():
    app = structure_payload(
        {"appId": 11114, "name": "Salesforce", "score": 8, "usersCount": 12,
         "trafficUploadedBytes": 5, "trafficDownloadedBytes": 7, "lastUsed": 1735689600000},
        DiscoveredApp,
        converter=STRICT,
        legacy=True,
    )  # fmt: skip
    assert (app.id, app.name, app.risk_score, app.user_count) == ("11114", "Salesforce", 8, 12)
    assert app.total_bytes == 12
    assert app.last_seen == datetime(2025, 1, 1, tzinfo=timezone.utc)


def test_graph_stream_and_app_info():
    stream = STRICT.structure(
        {"id": "5fc", "displayName": "Zscaler", "isSnapshotReport": False,
         "anonymizeUserData": True, "anonymizeMachineData": False, "logDataProvider": "zscaler",
         "receiverProtocol": "syslogTls", "lastDataReceivedDateTime": "2025-01-05T06:33:32.9080000Z",
         "supportedEntityTypes": ["user", "ipAddress"], "logFileCount": 3},
        DiscoveryStream,
    )  # fmt: skip
    assert stream.anonymize_users
    assert stream.log_data_provider is LogDataProvider.ZSCALER
    assert stream.last_data_received.microsecond == 908000
    info = STRICT.structure(
        {"vendor": "Dropbox", "founded": 2007, "holding": "Public",
         "isSoc2Compliant": "true", "isHipaaCompliant": "unknown", "isGdprDataProtectionOfficer": "false"},
        AppInfo,
    )  # fmt: skip
    assert info.flags == {
        "is_soc2_compliant": True,
        "is_hipaa_compliant": None,
        "is_gdpr_data_protection_officer": False,
    }
    assert STRICT.unstructure(info)["isHipaaCompliant"] == "unknown"


# --- coercions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-06", datetime(2025, 1, 6, tzinfo=timezone.utc)),
        ("2025-01-06T10:11:12Z", datetime(2025, 1, 6, 10, 11, 12, tzinfo=timezone.utc)),
        ("2025-01-06T10:11:12.1234567Z", datetime(2025, 1, 6, 10, 11, 12, 123456, tzinfo=timezone.utc)),
        ("2025-01-06T12:11:12+02:00", datetime(2025, 1, 6, 10, 11, 12, tzinfo=timezone.utc)),
        ("2025-01-06 10:11:12", datetime(2025, 1, 6, 10, 11, 12, tzinfo=timezone.utc)),
        (1736158272000, datetime(2025, 1, 6, 10, 11, 12, tzinfo=timezone.utc)),
    ],
)  # fmt: skip
def test_timestamps(text, expected):
    app = LENIENT.structure(
        {"id": "1", "displayName": "x", "riskScore": 1, "lastSeenDateTime": text}, DiscoveredApp
    )
    assert app.last_seen == expected
    assert app.last_seen.tzinfo is timezone.utc


def test_unknown_enum_values_stay_strings_and_case_is_normalised():
    app = STRICT.structure(
        {"id": "1", "displayName": "x", "riskScore": 1, "category": "Marketing"}, DiscoveredApp
    )
    assert app.category is AppCategory.MARKETING
    app = STRICT.structure(
        {"id": "1", "displayName": "x", "riskScore": 1, "category": "quantumStuff"}, DiscoveredApp
    )
    assert app.category == "quantumStuff"
    assert STRICT.unstructure(app)["category"] == "quantumStuff"


def test_unknown_keys_ignored_when_lenient_and_forbidden_when_strict():
    payload = {"id": "1", "displayName": "x", "riskScore": 1, "brandNewField": 3}
    assert LENIENT.structure(payload, DiscoveredApp).id == "1"
    with pytest.raises(DefenderPayloadError) as info:
        structure_payload([payload], list[DiscoveredApp], converter=STRICT, path="$.value")
    assert list(info.value.problems) == ["unknown keys (brandNewField) @ $.value[0]"]


def test_payload_errors_list_every_problem_with_wire_paths():
    bad = [
        {"id": "1", "displayName": "ok", "riskScore": 3},
        {"id": "2", "displayName": "x", "riskScore": "high", "lastSeenDateTime": "yesterday"},
        {"displayName": "no id"},
    ]
    with pytest.raises(DefenderPayloadError) as info:
        structure_payload(
            bad,
            list[DiscoveredApp],
            converter=LENIENT,
            request="GET https://g/apps",
            path="$.value",
        )
    err = info.value
    assert list(err.problems) == [
        "expected an integer, got 'high' @ $.value[1].riskScore",
        "not an ISO-8601 date or timestamp: 'yesterday' @ $.value[1].lastSeenDateTime",
        "required key missing @ $.value[2].id",
        "required key missing @ $.value[2].riskScore",
    ]
    assert "GET https://g/apps" in str(err)
    assert err.__cause__ is not None


def test_risk_score_out_of_range_is_rejected():
    with pytest.raises(DefenderPayloadError, match="risk_score' must be <= 10"):
        structure_payload({"id": "1", "displayName": "x", "riskScore": 11}, DiscoveredApp)


@pytest.mark.parametrize("value", [True, None, 1.5, {"a": 1}])
def test_ids_accept_only_strings_and_integers(value):
    with pytest.raises(DefenderPayloadError, match=r"@ \$\.id"):
        structure_payload({"id": value, "displayName": "x", "riskScore": 1}, DiscoveredApp)


# --- round trips ---------------------------------------------------------------------


@given(sts.streams)
def test_stream_round_trip(stream):
    assert STRICT.structure(STRICT.unstructure(stream), DiscoveryStream) == stream


@given(sts.apps)
def test_app_round_trip(app):
    assert STRICT.structure(STRICT.unstructure(app), DiscoveredApp) == app


@given(sts.app_infos)
def test_app_info_round_trip(info):
    assert STRICT.structure(STRICT.unstructure(info), AppInfo) == info


@given(sts.app_users)
def test_app_user_round_trip(user):
    assert STRICT.structure(STRICT.unstructure(user), AppUser) == user


@given(sts.apps)
def test_round_trip_survives_json(app):
    wire = json.loads(json.dumps(STRICT.unstructure(app)))
    assert STRICT.structure(wire, DiscoveredApp) == app
