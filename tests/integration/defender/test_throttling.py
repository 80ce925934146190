"""Graph JSON batching and throttling over real HTTPS; the legacy budget checked from the log.

Oracles: the generated tenant (truth.py), the sandbox's request log (each
record's arrival time) and the sandbox throttle's own count of requests it
let through, never the client's figures.
"""

import pytest

from cisync_lib import DefenderHttpError
from cisync_lib.defender import GraphSource, HttpPolicy, LegacySource, RateLimit
from cisync_lib.sandbox import FaultRule, GraphThrottle

from .conftest import graph_connection, legacy_connection, start
from .test_faults import FAST, busy_app, users_path
from .test_legacy import observations
from .truth import assert_matches, truth


@pytest.fixture
def throttled_graph(sb):
    graph = sb.service("graph")
    yield graph
    graph.throttler.set_policy(None)


def test_batched_read_under_a_tight_policy_equals_ground_truth(sb, throttled_graph):
    """Inner 429s (and plain ones) are waited out and resent alone; nothing fails or repeats."""
    # the shape of 150 requests/minute with a burst, scaled so the test takes seconds
    throttled_graph.throttler.set_policy(GraphThrottle(requests=150, period=1.0, burst=100))
    mark = sb.request_log.mark()
    with GraphSource(graph_connection(sb, **FAST)) as source:
        data = source.read()
    want = truth(sb.tenant)
    assert_matches(data, want)
    throttler = throttled_graph.throttler
    assert throttler.throttled > 0
    assert throttler.allowed == want.floor  # each Graph request served exactly once
    records = [r for r in sb.request_log.since(mark) if r.service == "graph"]
    inner = sum(r.items for r in records if r.path == "/beta/$batch")
    plain_429 = sum(r.status == 429 for r in records)
    assert inner - want.fanout == throttler.throttled - plain_429  # only the 429s were resent
    stats = source.read_stats
    assert stats["throttled"] == throttler.throttled
    assert stats["decreases"] >= 1
    assert 1 <= stats["concurrency_final"] <= stats["concurrency_peak"] <= 16


def test_an_inner_429_is_retried_after_its_retry_after(sb):
    """One app's first page answers 429 twice inside its batch: it alone is sent again."""
    stream, app = busy_app(sb)
    rule = sb.faults.add(
        FaultRule(service="graph", path=users_path(stream, app), status=429, retry_after=1, times=2)
    )
    mark = sb.request_log.mark()
    with GraphSource(graph_connection(sb, **FAST)) as source:
        data = source.read()
    want = truth(sb.tenant)
    assert_matches(data, want)
    assert sb.faults.fired(rule) == 2
    envelopes = [r for r in sb.request_log.since(mark) if r.path == "/beta/$batch"]
    assert {r.status for r in envelopes} == {200}
    assert sum(r.items for r in envelopes) == want.fanout + 2
    # Retry-After: 1, twice, honoured (the log's clock)
    assert envelopes[-1].at - envelopes[0].at >= 1.9
    assert source.read_stats["throttled"] == 2


def test_a_pinned_rate_counts_requests_as_graph_does(sb, throttled_graph):
    """rate_limit pins a budget shared with other tools: Graph's policy at that rate never throttles.

    Graph counts each inner request of a batch on its own, so a budget counted
    per HTTP request would let 20 times the rate through in batches.
    """
    throttled_graph.throttler.set_policy(GraphThrottle(requests=100, period=1.0, burst=100))
    policy = {"rate_limit": RateLimit(calls=100, period=1.0), "concurrency": 4, "retries": 0}
    mark = sb.request_log.mark()
    with GraphSource(graph_connection(sb, **policy)) as source:
        data = source.read()
    want = truth(sb.tenant)
    assert_matches(data, want)
    assert "concurrency_peak" not in source.read_stats  # no adaptive figures
    assert throttled_graph.throttler.throttled == 0
    assert throttled_graph.throttler.allowed == want.floor
    records = [r for r in sb.request_log.since(mark) if r.service == "graph"]
    assert {r.status for r in records} == {200}


def most_in_any_window(times, window):
    """The most arrivals inside any half-open window [t, t + window)."""
    times = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(times):
        while times[start] <= at - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_the_window_check_finds_a_fixed_window_burst():
    """The checker itself: a fixed window's reset lets 2x the budget through in one span."""
    fixed = [0.9 + i * 0.01 for i in range(5)] + [1.0 + i * 0.01 for i in range(5)]
    assert most_in_any_window(fixed, 1.0) == 10
    assert most_in_any_window([0.0, 1.0, 2.0], 1.0) == 1


@pytest.fixture(scope="module")
def small_window():
    """A legacy API allowing 5 requests in any 1 s (the documented 30/60 s, scaled), pages of 10."""
    sb = start("small", mdca_page_limit=10, mdca_rate_limit=5, mdca_rate_window=1.0)
    yield sb
    sb.close()


def test_the_legacy_budget_holds_in_every_window_of_the_request_log(small_window):
    """No 1 s window at the server ever holds more than 5 requests; none was refused."""
    sb = small_window
    policy = HttpPolicy(rate_limit=RateLimit(calls=5, period=1.0), retries=0)
    mark = sb.request_log.mark()
    with LegacySource(legacy_connection(sb, http=policy)) as source:
        data = source.read(include_users=False)
    assert observations(data) == truth(sb.tenant).observations
    records = [r for r in sb.request_log.since(mark) if r.service == "mdca"]
    assert len(records) > 15
    assert {r.status for r in records} == {200}
    assert most_in_any_window([r.at for r in records], 1.0) <= 5


def test_a_whole_batch_throttled_or_failing_is_resent_then_fails_bounded(sb):
    """The envelope itself answering 429/503: the batch is sent again whole, a bounded number
    of times; the data is unchanged, or the read fails naming the batch (never a short read).
    """
    envelope = r"^/beta/\$batch$"
    rule = sb.faults.add(
        FaultRule(service="graph", method="POST", path=envelope, status=429, retry_after=0, times=3)
    )
    with GraphSource(graph_connection(sb, **FAST)) as source:
        data = source.read()
    assert_matches(data, truth(sb.tenant))
    assert sb.faults.fired(rule) == 3

    sb.faults.clear()
    rule = sb.faults.add(FaultRule(service="graph", method="POST", path=envelope, status=503))
    with (
        GraphSource(graph_connection(sb, retries=2, **FAST)) as source,
        pytest.raises(DefenderHttpError, match="still failing after 2 retries") as info,
    ):
        source.read()
    assert info.value.status == 503
    assert "$batch" in info.value.request
    # each batch in flight: its first try and 2 retries (the failure stops batches not started)
    assert sb.faults.fired(rule) % 3 == 0
