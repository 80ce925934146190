"""Graph reads of small, medium and large tenants: calls and wall time, sequential vs concurrent.

Run with ``python -m pytest -m benchmark -s benchmarks/test_defender_read.py``. The
sequential read (one request at a time) is the baseline measured in the same run;
the concurrent read uses up to 4 requests in flight. Both send every request on its
own (no JSON batches: ``benchmarks/test_graph_throttling.py`` measures those), must
equal the ground truth and make exactly the API's floor of calls. No fixed rate
limit, so the figures show the fan-out, not the budget.

On loopback the sandbox and the client share one Python process, so a read is
CPU-bound and the fan-out gains little; with a network round trip (simulated by
a ``latency`` fault of 10 ms per Graph request, real Graph is slower still) it
is what makes large tenants practical.
"""

import time

import pytest

from cisync_lib.defender import GraphSource, reset_token_providers
from cisync_lib.sandbox import FaultRule
from tests.integration.defender.conftest import graph_connection, start
from tests.integration.defender.truth import assert_matches, truth

pytestmark = pytest.mark.benchmark

LATENCY = 0.010


def _timed_read(sb, concurrency):
    reset_token_providers()  # each read gets its own token, as a fresh process would
    mark = sb.request_log.mark()
    started = time.perf_counter()
    policy = {"concurrency": concurrency, "adaptive": False, "batch_size": 0}
    with GraphSource(graph_connection(sb, **policy)) as source:
        data = source.read(period=30)
    elapsed = time.perf_counter() - started
    calls = sb.request_log.round_trips(service="graph", since=mark)
    tokens = sb.request_log.round_trips(service="entra", method="POST", since=mark)
    return data, elapsed, calls, tokens


def _compare(sb, want, label):
    """Read sequentially (the baseline) and concurrently; check both, print the figures."""
    seq, seq_s, seq_calls, seq_tokens = _timed_read(sb, 1)
    con, con_s, con_calls, con_tokens = _timed_read(sb, 4)
    assert_matches(seq, want)
    assert_matches(con, want)
    assert seq_calls == con_calls == want.floor
    assert seq_tokens == con_tokens == 1
    users = sum(len(u) for u in con.users.values())
    print(
        f"\n{label:>22}: {len(con.apps)} apps, {users} user rows, {con_calls} Graph calls "
        f"+ 1 token | sequential {seq_s:6.1f} s ({seq_calls / seq_s:4.0f}/s) | "
        f"concurrent x4 {con_s:6.1f} s ({con_calls / con_s:4.0f}/s) | "
        f"speed-up {seq_s / con_s:.2f}x"
    )


@pytest.mark.parametrize("size", ["small", "medium", "large"])
def test_read_sequential_vs_concurrent(size):
    """Prints apps, users, calls and seconds, on loopback and with a simulated round trip."""
    sb = start(size)
    try:
        want = truth(sb.tenant, "P30D")
        _compare(sb, want, f"{size}, loopback")
        if size != "large":  # 7,000 sequential round trips would take minutes
            sb.faults.add(FaultRule(service="graph", kind="latency", delay=LATENCY))
            # printed, not asserted: wall time on a shared machine is no pass/fail criterion
            _compare(sb, want, f"{size}, +{LATENCY * 1000:.0f} ms/request")
    finally:
        sb.close()
