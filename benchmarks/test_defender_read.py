"""Graph reads of small, medium and large tenants: calls and wall time, sequential vs concurrent.

Run with ``python -m pytest -m benchmark -s benchmarks/test_defender_read.py``. The
sequential read (one request at a time) is the baseline measured in the same run;
the concurrent read uses the default fan-out of 4. Both must equal the ground truth
and make exactly the API's floor of calls. No client-side rate limit, so the
figures show the fan-out, not the budget.
"""

import time

import pytest

from cisync_lib.defender import GraphSource
from tests.integration.defender.conftest import graph_connection, start
from tests.integration.defender.truth import assert_matches, truth

pytestmark = pytest.mark.benchmark


def _timed_read(sb, concurrency):
    mark = sb.request_log.mark()
    started = time.perf_counter()
    with GraphSource(graph_connection(sb, concurrency=concurrency)) as source:
        data = source.read(period=30)
    elapsed = time.perf_counter() - started
    calls = sb.request_log.round_trips(service="graph", since=mark)
    tokens = sb.request_log.round_trips(service="entra", method="POST", since=mark)
    return data, elapsed, calls, tokens


@pytest.mark.parametrize("size", ["small", "medium", "large"])
def test_read_sequential_vs_concurrent(size):
    """Prints apps, users, calls and seconds; concurrency must not be slower than sequential."""
    sb = start(size)
    try:
        want = truth(sb.tenant, "P30D")
        seq, seq_s, seq_calls, seq_tokens = _timed_read(sb, 1)
        con, con_s, con_calls, con_tokens = _timed_read(sb, 4)
    finally:
        sb.close()
    assert_matches(seq, want)
    assert_matches(con, want)
    assert seq_calls == con_calls == want.floor
    assert seq_tokens == con_tokens == 1
    users = sum(len(u) for u in con.users.values())
    print(
        f"\n{size:>6}: {len(con.apps)} apps, {users} user rows, "
        f"{con_calls} Graph calls + 1 token | sequential {seq_s:.1f} s "
        f"({seq_calls / seq_s:.0f} calls/s) | concurrent x4 {con_s:.1f} s "
        f"({con_calls / con_s:.0f} calls/s) | speed-up {seq_s / con_s:.2f}x"
    )
    assert con_s < seq_s * 1.25  # the fan-out must pay for itself (loose: 2 shared cores)
