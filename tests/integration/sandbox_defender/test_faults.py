"""Every fault kind, on the Defender services, observed by real clients (requests, urllib3, msal).

``unserviced`` applies to ServiceNow's Batch API only; the Defender APIs have no batches.
"""

import msal
import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from cisync_lib.sandbox import DefenderOptions, FaultRule, Sandbox, SandboxConfig

from . import expected as ex
from .conftest import GraphClient, make_session, msal_app


@pytest.fixture(scope="module")
def shared():
    options = DefenderOptions(graph_page_size=5, mdca_rate_limit=None)
    config = SandboxConfig(services=("entra", "graph", "mdca"), size="tiny", defender=options)
    with Sandbox(config) as sb:
        yield sb


@pytest.fixture
def sb(shared):
    shared.faults.clear()
    shared.request_log.clear()
    yield shared
    shared.faults.clear()


def apps_path(sb, stream=None):
    stream = stream or sb.tenant.streams[0]
    return f"/uploadedStreams/{stream.id}/{ex.function_segment('P90D')}"


def test_429_with_retry_after_is_honoured_by_urllib3(sb):
    """A 429 carries Retry-After; a urllib3 Retry client waits and then succeeds."""
    graph = GraphClient(sb)
    sb.faults.add(FaultRule(service="graph", kind="status", status=429, retry_after=1, times=1))
    raw = graph.session.get(f"{sb.graph_url}{ex_base()}/uploadedStreams", timeout=10)
    assert raw.status_code == 429
    assert raw.headers["Retry-After"] == "1"
    assert raw.json()["error"]["code"] == "TooManyRequests"
    sb.faults.add(FaultRule(service="graph", kind="status", status=429, retry_after=1, times=1))
    retry = Retry(
        total=2, status_forcelist=[429], respect_retry_after_header=True, backoff_factor=0
    )
    graph.session.mount("https://", HTTPAdapter(max_retries=retry))
    assert graph.get("/uploadedStreams")["value"]
    assert [r.status for r in sb.request_log.entries if r.service == "graph"] == [429, 429, 200]


def ex_base():
    return "/beta/security/dataDiscovery/cloudAppDiscovery"


def test_5xx_reaches_msal_and_requests(sb):
    """msal raises on a 503 from the token endpoint; a 500 from Graph comes with Graph's error."""
    sb.faults.add(FaultRule(service="entra", method="POST", kind="status", status=503, times=1))
    with pytest.raises(msal.exceptions.MsalServiceError, match="503"):
        msal_app(sb, sb.client_secret).acquire_token_for_client([sb.graph_scope])
    graph = GraphClient(sb)
    sb.faults.add(FaultRule(service="graph", kind="status", status=500, times=1))
    response = graph.session.get(f"{sb.graph_url}{ex_base()}/uploadedStreams", timeout=10)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "InternalServerError"


def test_dropped_connection(sb):
    """A connection cut mid-response breaks the read; the next request works."""
    graph = GraphClient(sb)
    sb.faults.add(FaultRule(service="graph", kind="drop", path="aggregatedAppsDetails", times=1))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        graph.session.get(f"{sb.graph_url}{ex_base()}{apps_path(sb)}", timeout=10)
    assert graph.all(apps_path(sb))


def test_slow_page_exceeds_the_read_timeout(sb):
    """A response slower than the client's read timeout raises ReadTimeout (legacy API)."""
    session = make_session(sb)
    session.headers["Authorization"] = f"Token {sb.mdca_token}"
    sb.faults.add(FaultRule(service="mdca", kind="slow", delay=1.0, times=1))
    with pytest.raises(requests.exceptions.ReadTimeout):
        session.get(f"{sb.mdca_url}/discovery/streams/", timeout=(5, 0.2))


def test_malformed_json(sb):
    """A 200 with truncated JSON fails to decode."""
    graph = GraphClient(sb)
    sb.faults.add(FaultRule(service="graph", kind="malformed", times=1))
    response = graph.session.get(f"{sb.graph_url}{ex_base()}/uploadedStreams", timeout=10)
    assert response.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()


def test_short_page_loses_nothing_when_following_next_link(sb):
    """Graph pages shorter than the page size still chain to every item."""
    graph = GraphClient(sb)
    stream = next(s for s in sb.tenant.streams if s.is_endpoint)
    sb.faults.add(
        FaultRule(service="graph", kind="short_page", path="aggregatedAppsDetails", rows=2, times=2)
    )
    items = graph.all(apps_path(sb, stream))
    assert [i["id"] for i in items] == [a.id for a in sb.tenant.apps("P90D", stream.id)]
    shorts = [r for r in sb.request_log.entries if r.fault == "short_page"]
    assert [r.items for r in shorts] == [3, 3]


def test_short_legacy_page_with_has_next(sb):
    """A legacy page shorter than limit says hasNext; stepping skip by what came loses nothing."""
    session = make_session(sb)
    session.headers["Authorization"] = f"Token {sb.mdca_token}"
    stream = next(s for s in sb.tenant.streams if s.is_endpoint)
    sb.faults.add(FaultRule(service="mdca", kind="short_page", times=1))
    got, skip, sizes = [], 0, []
    while True:
        body = {"streamId": stream.id, "skip": skip, "limit": 100}
        page = session.post(
            f"{sb.mdca_url}/v1/discovery/discovered_apps/", json=body, timeout=10
        ).json()
        sizes.append(len(page["data"]))
        got.extend(str(a["appId"]) for a in page["data"])
        skip += len(page["data"])
        if not page["hasNext"]:
            break
    assert got == [a.id for a in sb.tenant.apps("P90D", stream.id)]
    assert len(sizes) == 2
    assert sizes[0] < 100


def test_latency_is_added_and_logged(sb):
    """Latency slows a request down but it still succeeds; the log marks it."""
    sb.faults.add(FaultRule(service="entra", kind="latency", delay=0.05, times=1))
    result = msal_app(sb, sb.client_secret).acquire_token_for_client([sb.graph_scope])
    assert "access_token" in result
    assert next(r.fault for r in sb.request_log.entries if r.service == "entra") == "latency"


def test_legacy_rate_limit_is_observed(shared):
    """The legacy API's own 429 (30/min by default; 2 per window here) reaches requests."""
    options = DefenderOptions(mdca_rate_limit=2, mdca_rate_window=60.0)
    config = SandboxConfig(services=("entra", "mdca"), size="tiny", defender=options)
    with Sandbox(config) as sb:
        session = make_session(sb)
        session.headers["Authorization"] = f"Token {sb.mdca_token}"
        codes = [session.get(f"{sb.mdca_url}/discovery/streams/", timeout=10) for _ in range(3)]
        assert [r.status_code for r in codes] == [200, 200, 429]
        assert int(codes[-1].headers["Retry-After"]) >= 1
