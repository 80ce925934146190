"""Graph reads against throttling policies and real-world latency: adaptive vs fixed, side by side.

Run with ``python -m pytest -m benchmark -s benchmarks/test_graph_throttling.py``.
Figures are printed, never asserted on wall time; the assertions are about
correctness (ground truth, no failed request).

* Tight policy (150 requests per minute per app per tenant, the ``/security``
  alerts limit, with a small burst): the read must complete with no failed
  request, and its time is printed against the policy's floor (Graph
  requests / allowed rate). Every inner request of a batch counts on its own.
* ``medium`` with 150 ms added to every Entra and Graph request under a
  generous policy: the default client (adaptive concurrency up to 16, JSON
  batches of 20) against the old fixed policy (20 requests/s, 4 in flight,
  no batches), in the same run, with the ratio; and the adaptive maximum at
  8, 16 and 32 to show which default pays.
"""

import time

import pytest

from cisync_lib.defender import GraphSource, RateLimit, reset_token_providers
from cisync_lib.sandbox import FaultRule, GraphThrottle
from tests.integration.defender.conftest import graph_connection, start
from tests.integration.defender.truth import assert_matches, truth

pytestmark = pytest.mark.benchmark

LATENCY = 0.150
OLD = {"rate_limit": RateLimit(calls=20, period=1.0), "concurrency": 4, "batch_size": 0}


def _read(sb, **policy):
    reset_token_providers()  # each read gets its own token, as a fresh process would
    mark = sb.request_log.mark()
    started = time.perf_counter()
    with GraphSource(graph_connection(sb, **policy)) as source:
        data = source.read(period=30)
        stats = source.read_stats
    elapsed = time.perf_counter() - started
    records = [r for r in sb.request_log.since(mark) if r.service == "graph"]
    return data, elapsed, records, stats


@pytest.mark.parametrize("size", ["tiny", "small"])
def test_tight_policy_read_time_against_its_floor(size):
    """150 requests/minute, burst 5: no failed request; read time vs requests / rate."""
    policy = GraphThrottle(requests=150, period=60.0, burst=5)
    sb = start(size, graph_throttle=policy)
    try:
        want = truth(sb.tenant, "P30D")
        data, elapsed, records, stats = _read(sb)
        assert_matches(data, want)
        throttler = sb.service("graph").throttler
        assert throttler.allowed == want.floor  # every Graph request answered once, none lost
        floor = (want.floor - policy.capacity) / policy.rate
        print(
            f"\n{size}, 150/min burst 5: {want.floor} Graph requests "
            f"({len(records)} HTTP, {stats['batches']} batches), {throttler.throttled} answered 429"
            f" | read {elapsed:6.1f} s, floor {floor:6.1f} s, ratio {elapsed / floor:.2f}"
            f" | concurrency peak {stats['concurrency_peak']}, final "
            f"{stats['concurrency_final']}, {stats['decreases']} decreases, "
            f"{stats['throttle_wait_s']:.1f} s held"
        )
    finally:
        sb.close()


def test_medium_at_150ms_adaptive_vs_the_old_fixed_rate():
    """The default client against 20/s with 4 in flight, same sandbox, same run."""
    sb = start("medium", graph_throttle=GraphThrottle(requests=100_000, period=60.0))
    try:
        for service in ("entra", "graph"):
            sb.faults.add(FaultRule(service=service, kind="latency", delay=LATENCY))
        want = truth(sb.tenant, "P30D")
        runs = {}
        for label, policy in (
            ("old: 20/s, 4 in flight, no batches", OLD),
            ("adaptive max 16, no batches", {"batch_size": 0}),
            ("adaptive max 8, batches of 20", {"concurrency": 8}),
            ("adaptive max 16, batches of 20", {}),
            ("adaptive max 32, batches of 20", {"concurrency": 32}),
        ):
            data, elapsed, records, stats = _read(sb, **policy)
            assert_matches(data, want)
            assert {r.status for r in records} == {200}
            runs[label] = elapsed
            peak = stats.get("concurrency_peak", "-")
            print(
                f"\nmedium +150 ms, {label:<36}: {elapsed:6.1f} s, {len(records):5d} HTTP "
                f"requests ({stats['batches']} batches), concurrency peak {peak}"
            )
        old = runs["old: 20/s, 4 in flight, no batches"]
        new = runs["adaptive max 16, batches of 20"]
        print(f"\nmedium +150 ms: default {new:.1f} s vs old {old:.1f} s: {old / new:.1f}x faster")
    finally:
        sb.close()
