"""run_read with a backend that batches: chunks, results left for later, order, progress."""

import threading
from datetime import datetime, timezone

from cisync_lib._models import AppUser, DiscoveredApp, DiscoveryStream
from cisync_lib.defender._reader import Later, run_read

SEEN = datetime(2026, 11, 1, tzinfo=timezone.utc)
STREAMS = [DiscoveryStream(id=f"s{n}", display_name=f"FW {n}") for n in (1, 2)]


class Batching:
    """Chunks of 3; an app whose id is even "has more pages" and comes back as Later."""

    kind = "graph"
    batch_size = 3

    def __init__(self):
        self.chunks, self.later, self.lock = [], [], threading.Lock()

    def list_streams(self):
        return STREAMS

    def list_apps(self, stream, period, max_risk_score):
        return [
            DiscoveredApp(id=f"{n}", name=f"app {n}", risk_score=5, user_count=n,
                          last_seen=SEEN, stream_id=stream.id, period=period)
            for n in range(1, 8)
        ]  # fmt: skip

    def users(self, stream, app):
        return [AppUser(identifier=f"u{i}@{app.id}", app_id=app.id, stream_id=stream.id)
                for i in range(app.user_count)]  # fmt: skip

    def run_calls(self, calls):
        with self.lock:
            self.chunks.append(len(calls))
        out = []
        for call in calls:
            if int(call.app.id) % 2 == 0:
                out.append(Later(lambda c=call: self.finish_later(c)))
            else:
                out.append(self.users(call.stream, call.app))
        return out

    def finish_later(self, call):
        with self.lock:
            self.later.append(call.app.id)
        return self.users(call.stream, call.app)


def test_chunks_and_later_results_come_back_in_plan_order_with_progress():
    backend, seen = Batching(), []
    data = run_read(
        backend,
        period=30,
        max_risk_score=10,
        streams=None,
        include_users=True,
        include_devices=False,
        include_app_info=False,
        progress=seen.append,
        concurrency=1,  # one thread: the order of the later chains is observable
        info_cache={},
    )
    assert sorted(backend.chunks) == [2, 3, 3, 3, 3]  # 14 calls in chunks of 3
    # the chains left for later run after every chunk, longest first (by user count)
    assert backend.later == ["6", "6", "4", "4", "2", "2"]
    for app_id in map(str, range(1, 8)):
        got = [u.identifier for u in data.users[app_id]]
        want = [f"u{i}@{app_id}" for i in range(int(app_id))]
        assert sorted(set(got)) == sorted(want)
    last = seen[-1]
    assert last.phase == "done"
    assert last.requests_done == last.requests_total == 14
    assert last.users_read == 2 * sum(range(1, 8))
    counts = [p.requests_done for p in seen]
    assert counts == sorted(counts)
