"""Throttling, server errors, slow, cut and malformed responses, token trouble: over real HTTPS."""

import re

import attrs
import pytest

from cisync_lib import DefenderAuthError, DefenderHttpError, DefenderPayloadError
from cisync_lib.defender import ClientSecret, GraphSource
from cisync_lib.sandbox import FaultRule

from .conftest import graph_connection
from .truth import assert_matches, truth

FAST = {"backoff_factor": 0.01, "backoff_jitter": 0.05}


def busy_app(sb, min_users=150):
    """A (stream, app) pair whose users take several pages."""
    for stream in sb.tenant.streams:
        if stream.is_snapshot:
            continue
        for app in sb.tenant.apps("P30D", stream.id):
            if len(sb.tenant.users("P30D", stream.id, app.id)) >= min_users:
                return stream, app
    raise AssertionError("no app with enough users")


def users_path(stream, app):
    return re.escape(f"/uploadedStreams/{stream.id}/") + r"[^/]*" + re.escape(f"/{app.id}/users")


def test_twenty_percent_throttling_gives_the_same_result(sb):
    """429 and 503 on about 20% of requests (Retry-After 0 or 1 s): the result is unchanged.

    The faults hit plain requests, whole batches and inner requests of batches alike.
    """
    for status, after in ((429, 0), (503, 1), (429, 1), (503, 0)):
        sb.faults.add(
            FaultRule(service="graph", status=status, retry_after=after, probability=0.055)
        )
    mark = sb.request_log.mark()
    graph = sb.service("graph")
    inner_faults = graph.inner_faults
    with GraphSource(graph_connection(sb, retries=8, concurrency=8, **FAST)) as source:
        data = source.read()
    want = truth(sb.tenant)
    assert_matches(data, want)
    records = [r for r in sb.request_log.since(mark) if r.service == "graph"]
    faults = sum(r.status in (429, 503) for r in records)
    inner_faults = graph.inner_faults - inner_faults
    assert faults >= len(records) // 10
    assert inner_faults > 0
    # every Graph request was answered once: plain 200s plus inner answers that were no fault
    plain = sum(r.status == 200 and r.path != "/beta/$batch" for r in records)
    inner = sum(r.items for r in records if r.status == 200 and r.path == "/beta/$batch")
    assert plain + inner - inner_faults == want.floor


def test_cut_bodies_and_short_pages_give_the_same_result(sb):
    """Connections cut mid-body are retried; short pages are followed to the end."""
    sb.faults.add(FaultRule(service="graph", kind="drop", probability=0.1))
    sb.faults.add(FaultRule(service="graph", kind="short_page", probability=0.3))
    with GraphSource(graph_connection(sb, **FAST)) as source:
        data = source.read()
    assert_matches(data, truth(sb.tenant))
    kinds = {r.fault for r in sb.request_log.entries if r.service == "graph"}
    assert {"drop", "short_page"} <= kinds


def test_a_permanent_500_on_one_page_fails_the_read_naming_it(sb):
    """The second page of one app's users always fails: the read raises, naming that page."""
    stream, app = busy_app(sb)
    sb.faults.add(FaultRule(service="graph", path=users_path(stream, app), status=500, after=1))
    with (
        GraphSource(graph_connection(sb, **FAST)) as source,
        pytest.raises(DefenderHttpError) as info,
    ):
        source.read()
    err = info.value
    assert (err.status, err.stream_id, err.app_id, err.page) == (500, stream.id, app.id, 2)
    assert f"stream {stream.id}, app {app.id}, page 2" in str(err)
    assert "skiptoken" in err.request
    assert err.request_id


def test_a_page_still_throttled_after_its_retries_fails(sb):
    """A 503 that never ends is retried the configured number of times, then fails."""
    stream, app = busy_app(sb)
    rule = sb.faults.add(
        FaultRule(service="graph", path=users_path(stream, app), status=503, retry_after=0)
    )
    with (
        GraphSource(graph_connection(sb, retries=3, **FAST)) as source,
        pytest.raises(DefenderHttpError, match="still failing after 3 retries") as info,
    ):
        source.read()
    assert (info.value.status, info.value.app_id, info.value.page) == (503, app.id, 1)
    assert info.value.request_id  # Graph's, from the inner answer's error body
    assert sb.faults.fired(rule) == 4


def test_a_failed_inner_request_names_its_page_and_graph_request_id(sb):
    """A first page failing inside its batch: the error names it and Graph's request-id.

    Graph puts the request-id of an inner error in its body (``error.innerError``),
    as it does for a plain request; support asks for it.
    """
    stream, app = busy_app(sb)
    rule = sb.faults.add(FaultRule(service="graph", path=users_path(stream, app), status=500))
    with (
        GraphSource(graph_connection(sb, **FAST)) as source,
        pytest.raises(DefenderHttpError) as info,
    ):
        source.read()
    err = info.value
    assert (err.status, err.stream_id, err.app_id, err.page) == (500, stream.id, app.id, 1)
    assert "(in a $batch)" in err.request
    assert err.request_id
    assert sb.faults.fired(rule) == 1  # a 500 is not retried, batched or not


def test_a_response_slower_than_the_read_timeout_is_retried_then_fails(sb):
    """Read timeouts are retried; when every attempt is too slow the read fails cleanly."""
    stream, app = busy_app(sb)
    rule = sb.faults.add(
        FaultRule(service="graph", path=users_path(stream, app), kind="slow", delay=1.2)
    )
    # a slow answer is a property of an HTTP request: send the first pages on their own
    conn = graph_connection(sb, read_timeout=0.4, retries=2, batch_size=0, **FAST)
    with GraphSource(conn) as source, pytest.raises(DefenderHttpError) as info:
        source.read()
    err = info.value
    assert (err.status, err.stream_id, err.app_id, err.page) == (None, stream.id, app.id, 1)
    assert "ReadTimeoutError" in err.detail
    assert sb.faults.fired(rule) == 3


def test_one_slow_response_is_retried_and_the_read_completes(sb):
    """A single slow page costs one retry, nothing else."""
    stream, app = busy_app(sb)
    sb.faults.add(
        FaultRule(service="graph", path=users_path(stream, app), kind="slow", delay=1.0, times=1)
    )
    conn = graph_connection(sb, read_timeout=0.4, batch_size=0, **FAST)
    with GraphSource(conn) as source:
        data = source.read()
    assert_matches(data, truth(sb.tenant))


def test_a_malformed_page_raises_naming_request_and_json_path(sb):
    """A body that stays truncated JSON is a payload error naming the request, after retries."""
    stream, app = busy_app(sb)
    rule = sb.faults.add(FaultRule(service="graph", path=users_path(stream, app), kind="malformed"))
    with (
        GraphSource(graph_connection(sb, retries=2, **FAST)) as source,
        pytest.raises(DefenderPayloadError) as info,
    ):
        source.read()
    err = info.value
    assert err.request.startswith("GET https://")
    assert f"/{app.id}/users" in err.request
    assert any(p.endswith("@ $") and "after 3 tries" in p for p in err.problems)
    assert f"app {app.id}" in str(err)
    assert sb.faults.fired(rule) == 3  # the first try and two retries, then it gave up


def test_malformed_bodies_are_sent_again_and_the_result_is_unchanged(sb):
    """Truncated JSON on about 10% of Graph answers: retried, and nothing is lost or doubled."""
    rule = sb.faults.add(FaultRule(service="graph", kind="malformed", probability=0.1))
    with GraphSource(graph_connection(sb, retries=8, **FAST)) as source:
        data = source.read()
    assert_matches(data, truth(sb.tenant))
    assert sb.faults.fired(rule) >= 1


def test_a_401_drops_the_cached_token_and_retries_once(sb):
    """Graph refusing a token once costs one new token, and the read completes."""
    sb.faults.add(FaultRule(service="graph", status=401, times=1, after=3))
    mark = sb.request_log.mark()
    with GraphSource(graph_connection(sb)) as source:
        data = source.read()
    assert_matches(data, truth(sb.tenant))
    assert sb.request_log.round_trips(service="entra", method="POST", since=mark) == 2


def test_a_401_that_persists_is_an_auth_error(sb):
    """Two 401s in a row for the same request: DefenderAuthError, not an endless loop."""
    sb.faults.add(FaultRule(service="graph", status=401))
    with GraphSource(graph_connection(sb)) as source, pytest.raises(DefenderAuthError) as info:
        source.read()
    assert info.value.error == "unauthorized"
    assert "uploadedStreams" in info.value.error_description


def test_token_endpoint_trouble_is_retried(sb):
    """A 503 from Entra ID is retried by our session before msal sees it."""
    sb.faults.add(FaultRule(service="entra", method="POST", status=503, retry_after=0, times=1))
    with GraphSource(graph_connection(sb, **FAST)) as source:
        data = source.read(include_users=False, include_devices=False)
    assert data.complete


def test_a_wrong_secret_is_a_defender_auth_error(sb):
    """Entra's error, description and correlation id come through msal's error dict."""
    conn = attrs.evolve(graph_connection(sb), credential=ClientSecret(secret="wrong-secret"))
    with GraphSource(conn) as source, pytest.raises(DefenderAuthError) as info:
        source.read()
    err = info.value
    assert err.error == "invalid_client"
    assert err.error_description.startswith("AADSTS")
    assert err.correlation_id
    assert "wrong-secret" not in str(err)
