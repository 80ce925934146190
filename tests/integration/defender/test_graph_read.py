"""Graph reads of a small tenant over real HTTPS equal the generated ground truth."""

import attrs
import pytest

from cisync_lib.defender import GraphSource

from .conftest import graph_connection
from .truth import assert_matches, truth


@pytest.mark.parametrize("kind", ["secret", "pem", "pfx"])
def test_read_equals_ground_truth_with_the_api_floor_of_calls(sb, kind):
    """Secret, PEM certificate and PFX: same data; 1 token and the minimum of Graph pages."""
    mark = sb.request_log.mark()
    with GraphSource(graph_connection(sb, kind)) as source:
        data = source.read(period=30)
    want = truth(sb.tenant, "P30D")
    assert_matches(data, want)
    assert sb.request_log.round_trips(service="entra", method="POST", since=mark) == 1
    # the first pages of users and devices travel in batches of 20: fewer round trips,
    # and still exactly the floor of Graph requests counted inside them
    assert sb.request_log.round_trips(service="graph", since=mark) == want.http_floor(20)
    assert source.requests_sent == want.http_floor(20)
    batches = [r for r in sb.request_log.since(mark) if r.path == "/beta/$batch"]
    assert len(batches) == -(-want.fanout // 20)
    assert sum(r.items for r in batches) == want.fanout
    assert {r.status for r in sb.request_log.since(mark) if r.service == "graph"} == {200}
    assert (data.period, data.source, data.users_read) == ("P30D", "graph", True)


def test_unbatched_read_equals_ground_truth_at_the_plain_floor(sb):
    """batch_size=0 sends every page on its own: same data, the floor of plain GETs."""
    mark = sb.request_log.mark()
    with GraphSource(graph_connection(sb, batch_size=0)) as source:
        data = source.read(period=30)
    want = truth(sb.tenant, "P30D")
    assert_matches(data, want)
    assert sb.request_log.round_trips(service="graph", since=mark) == want.floor
    assert sb.request_log.round_trips(service="graph", method="POST", since=mark) == 0


def test_risk_filter_is_applied_by_graph(sb):
    """max_risk_score becomes $filter=riskScore le N on every app listing."""
    mark = sb.request_log.mark()
    with GraphSource(graph_connection(sb)) as source:
        data = source.read(period="P90D", max_risk_score=5)
    want = truth(sb.tenant, "P90D", max_risk=5)
    assert_matches(data, want)
    assert sb.request_log.round_trips(service="graph", since=mark) == want.http_floor(20)
    listings = [
        r for r in sb.request_log.since(mark) if r.path.endswith("')") and r.service == "graph"
    ]
    assert listings
    assert all("riskScore%20le%205" in r.query for r in listings if "skiptoken" not in r.query)
    assert data.max_risk_score == 5


def test_streams_by_name_and_id_including_a_snapshot(sb):
    """Named streams are read even when they are snapshot reports."""
    snapshot = next(s for s in sb.tenant.streams if s.is_snapshot)
    other = next(s for s in sb.tenant.streams if not s.is_snapshot)
    with GraphSource(graph_connection(sb)) as source:
        data = source.read(period=7, streams=[snapshot.display_name, other.id])
    want = truth(sb.tenant, "P7D", streams={snapshot.display_name, other.id})
    assert {s.id for s in data.streams} == {snapshot.id, other.id}
    assert_matches(attrs.evolve(data, streams=want.streams), want)


def test_app_info_is_read_once_per_app_and_cached(sb):
    """Catalog info equals the tenant's, is fetched once per app id, and not again next read."""
    with GraphSource(graph_connection(sb, batch_size=0)) as source:
        mark = sb.request_log.mark()
        data = source.read(include_users=False, include_devices=False, include_app_info=True)
        first = [r for r in sb.request_log.since(mark) if r.path.endswith("/appInfo")]
        again = sb.request_log.mark()
        cached = source.read(include_users=False, include_devices=False, include_app_info=True)
        second = [r for r in sb.request_log.since(again) if r.path.endswith("/appInfo")]
    ids = {m.id for m in data.apps}
    assert len(first) == len(ids)
    assert second == []
    assert data.app_info == {i: sb.tenant.app_info[i] for i in ids if i in sb.tenant.app_info}
    assert cached.app_info == data.app_info
    assert (data.users, data.users_read, data.devices) == ({}, False, {})
    mark = sb.request_log.mark()
    with GraphSource(graph_connection(sb)) as batched:  # the same, in batches of 20
        again = batched.read(include_users=False, include_devices=False, include_app_info=True)
    assert again.app_info == data.app_info
    envelopes = [r for r in sb.request_log.since(mark) if r.path == "/beta/$batch"]
    assert sum(r.items for r in envelopes) == len(ids)
    assert len(envelopes) == -(-len(ids) // 20)


def test_sequential_and_concurrent_reads_are_identical(sb):
    """Fan-out order never changes the result."""
    with GraphSource(graph_connection(sb, concurrency=1)) as one:
        first = one.read()
    with GraphSource(graph_connection(sb, concurrency=8)) as many:
        second = many.read()
    assert attrs.evolve(first, read_at=second.read_at) == second


def test_progress_reports_counts_and_totals(sb):
    """The callback sees every phase; the last report has the totals."""
    seen = []
    with GraphSource(graph_connection(sb)) as source:
        data = source.read(progress=seen.append)
    want = truth(sb.tenant)
    assert seen[0].phase == "streams"
    assert seen[-1].phase == "done"
    last = seen[-1]
    assert last.streams_read == last.streams_total == len(want.streams)
    assert last.apps_read == last.apps_total == len(want.observations)
    assert last.users_read == sum(len(u) for u in data.users.values())
    assert last.requests_done == last.requests_total == len(want.users) + len(want.devices)
    counts = [p.requests_done for p in seen]
    assert counts == sorted(counts)
