"""Read every Graph and legacy endpoint of a medium tenant over HTTPS; compare with ground truth."""

import attrs
import pytest

from cisync_lib import AppUser, DiscoveredApp, DiscoveryStream, make_converter, structure_payload
from cisync_lib.sandbox import DefenderOptions, Sandbox, SandboxConfig

from . import expected as ex
from .conftest import GraphClient, make_session

PERIODS = ("P7D", "P30D", "P90D")
STRICT = make_converter(strict=True)


@pytest.fixture(scope="module")
def medium():
    options = DefenderOptions(graph_page_size=300, mdca_rate_limit=None)
    config = SandboxConfig(
        services=("entra", "graph", "mdca"), size="medium", seed=3, defender=options
    )
    with Sandbox(config) as sb:
        yield sb


@pytest.mark.slow
def test_graph_streams_and_apps_every_period(medium):
    """uploadedStreams and the apps of every stream and period equal the tenant, field by field."""
    tenant, graph = medium.tenant, GraphClient(medium)
    streams = graph.all("/uploadedStreams")
    assert streams == [ex.graph_stream(s) for s in tenant.streams]
    # the library's strict converter reads the same payload into the same models
    assert structure_payload(streams, list[DiscoveryStream], converter=STRICT) == list(
        tenant.streams
    )
    for stream in tenant.streams:
        for period in PERIODS:
            short = period == "P7D"  # both spellings of the function segment
            items = graph.all(f"/uploadedStreams/{stream.id}/{ex.function_segment(period, short)}")
            want = tenant.apps(period, stream.id)
            assert items == [ex.graph_app(a) for a in want]
            got = structure_payload(items, list[DiscoveredApp], converter=STRICT)
            assert got == [attrs.evolve(a, stream_id=None, period=None) for a in want]


@pytest.mark.slow
def test_graph_users_ips_devices_and_app_info(medium):
    """For every app of every stream (90 days): users, IPs, devices and appInfo, paged to the end."""
    tenant, graph = medium.tenant, GraphClient(medium)
    fn = ex.function_segment("P90D")
    seen_info = set()
    identifiers = set()
    for stream in tenant.streams:
        for app in tenant.apps("P90D", stream.id):
            base = f"/uploadedStreams/{stream.id}/{fn}/{app.id}"
            users = graph.all(f"{base}/users")
            assert [u["userIdentifier"] for u in users] == list(
                tenant.users("P90D", stream.id, app.id)
            )
            assert all(u["@odata.type"] == ex.NS + "discoveredCloudAppUser" for u in users)
            identifiers.update(u["userIdentifier"] for u in users)
            ips = graph.all(f"{base}/ipAddresses")
            assert [i["ipAddress"] for i in ips] == list(
                tenant.ip_addresses("P90D", stream.id, app.id)
            )
            assert len(ips) == app.ip_address_count
            if stream.is_endpoint:
                devices = graph.all(f"{base}/devices")
                assert [d["name"] for d in devices] == list(
                    tenant.devices("P90D", stream.id, app.id)
                )
                assert len(devices) == app.device_count
            if app.id not in seen_info:
                seen_info.add(app.id)
                info = graph.get(f"{base}/appInfo")
                info.pop("@odata.context")
                assert info == ex.graph_app_info(app.id, tenant.app_info[app.id])
    # every identifier served has a ground truth, and every ground truth was served
    assert identifiers == set(tenant.truth)
    assert seen_info == tenant.app_ids("P90D")
    assert graph.pages > len(seen_info)  # users of the big apps span several pages


@pytest.mark.slow
def test_graph_single_app_entity(medium):
    """GET .../{appId} returns one app, as in the collection."""
    tenant, graph = medium.tenant, GraphClient(medium)
    stream = next(s for s in tenant.streams if s.is_endpoint)
    for app in tenant.apps("P30D", stream.id):
        body = graph.get(f"/uploadedStreams/{stream.id}/{ex.function_segment('P30D')}/{app.id}")
        body.pop("@odata.context")
        assert body == ex.graph_app(app)


@pytest.mark.slow
def test_legacy_streams_and_apps(medium):
    """The legacy API lists the same streams and, per timeframe, the same apps, 100 at a time."""
    tenant = medium.tenant
    session = make_session(medium)
    session.headers["Authorization"] = f"Token {medium.mdca_token}"
    streams = session.get(f"{medium.mdca_url}/discovery/streams/", timeout=30).json()["streams"]
    got = [
        {k: s.get(k) for k in ex.legacy_stream_subset(t)}
        for s, t in zip(streams, tenant.streams, strict=True)
    ]
    assert got == [ex.legacy_stream_subset(t) for t in tenant.streams]
    parsed = structure_payload(streams, list[DiscoveryStream], converter=STRICT, legacy=True)
    assert [(s.id, s.is_snapshot, s.is_endpoint, s.anonymize_users) for s in parsed] == [
        (s.id, s.is_snapshot, s.is_endpoint, s.anonymize_users) for s in tenant.streams
    ]
    for stream in tenant.streams:
        for days, period in ((7, "P7D"), (30, "P30D"), (90, "P90D")):
            items, skip, pages = [], 0, 0
            while True:
                body = {"streamId": stream.id, "timeframe": days, "skip": skip, "limit": 100}
                page = session.post(
                    f"{medium.mdca_url}/v1/discovery/discovered_apps/", json=body, timeout=30
                ).json()
                assert len(page["data"]) <= 100
                items.extend(page["data"])
                pages += 1
                skip += len(page["data"])
                if not page["hasNext"]:
                    break
            want = tenant.apps(period, stream.id)
            assert page["total"] == len(want)
            assert items == [ex.legacy_app(a) for a in want]
            assert pages == max(1, -(-len(want) // 100))
    apps = structure_payload(items, list[DiscoveredApp], converter=STRICT, legacy=True)
    assert [a.id for a in apps] == [a.id for a in want]


def test_users_are_identifiers_only(medium):
    """Graph users structure strictly as AppUser: nothing but userIdentifier."""
    tenant, graph = medium.tenant, GraphClient(medium)
    stream = tenant.streams[0]
    app = tenant.apps("P7D", stream.id)[0]
    users = graph.all(f"/uploadedStreams/{stream.id}/{ex.function_segment('P7D')}/{app.id}/users")
    parsed = structure_payload(users, list[AppUser], converter=STRICT)
    assert [u.identifier for u in parsed] == list(tenant.users("P7D", stream.id, app.id))
