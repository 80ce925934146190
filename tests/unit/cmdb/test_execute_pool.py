"""The parallel write scheduler, with a stand-in connection (no HTTP): ordering of stages,
calls in flight, progress and interrupts."""

import _thread
import threading
import time

import pytest

from cisync_lib.cmdb import CmdbConfig
from cisync_lib.cmdb._execute import Op, OpKind, Tally, execute
from cisync_lib.servicenow import BatchOutcome, BatchResult


class _Conn:
    """Answers every item of a Batch API call as created, after ``delay`` seconds."""

    def __init__(self, sessions, delay=0.02, interrupt_after=None):
        self.sessions = sessions
        self.delay = delay
        self.interrupt_after = interrupt_after
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.calls = []  # (start, end, kinds) per call
        self.started = 0
        self.request_count = 0

    def batch(self, items, *, chunk_size):
        with self.lock:
            self.in_flight += 1
            self.started += 1
            self.request_count += 1
            number = self.started
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        start = time.monotonic()
        time.sleep(self.delay)
        with self.lock:
            self.in_flight -= 1
            self.calls.append((start, time.monotonic(), {i.id[0] for i in items}))
        if self.interrupt_after is not None and number == self.interrupt_after:
            _thread.interrupt_main()  # Ctrl-C reaches the main thread while calls are running
        return [BatchResult(id=i.id, outcome=BatchOutcome.SERVICED, status=201) for i in items]


def _ops(apps, links):
    ops = [Op(f"a{n}", OpKind.CREATE, "POST", "app", f"s{n}", {"x": "1"}) for n in range(apps)]
    ops += [Op(f"l{n}", OpKind.ADD_LINK, "POST", "link", f"k{n}", {"y": "1"}) for n in range(links)]
    return ops


def test_links_start_only_after_every_app_call_answered():
    conn = _Conn(sessions=4)
    ops = _ops(apps=35, links=60)
    execute(conn, ops, CmdbConfig(batch_size=10), Tally())
    assert all(o.done for o in ops)
    assert conn.max_in_flight == 4
    app_calls = [c for c in conn.calls if "a" in c[2]]
    link_only = [c for c in conn.calls if c[2] == {"l"}]
    assert len(conn.calls) == 10  # the same calls as one session would make
    last_app_end = max(end for _start, end, _kinds in app_calls)
    assert all(start >= last_app_end for start, _end, _kinds in link_only)


def test_progress_is_the_running_count_after_every_call():
    conn = _Conn(sessions=3)
    ops = _ops(apps=5, links=40)
    seen = []
    execute(conn, ops, CmdbConfig(batch_size=10), Tally(), progress=lambda d, t: seen.append(d))
    assert seen[:5] == [10, 20, 30, 40, 45]  # one report per call, then the round's end
    assert seen[-1] == 45


def test_one_session_sends_calls_one_at_a_time():
    conn = _Conn(sessions=1)
    ops = _ops(apps=10, links=30)
    execute(conn, ops, CmdbConfig(batch_size=10), Tally())
    assert conn.max_in_flight == 1
    assert all(o.done for o in ops)


def test_an_interrupt_stops_new_calls_and_reports_what_was_written():
    conn = _Conn(sessions=4, delay=0.05, interrupt_after=3)
    ops = _ops(apps=10, links=390)  # 40 calls
    seen = []
    with pytest.raises(KeyboardInterrupt):
        execute(conn, ops, CmdbConfig(batch_size=10), Tally(), progress=lambda d, t: seen.append(d))
    done = sum(o.done for o in ops)
    assert conn.in_flight == 0  # the calls already on the wire were waited for...
    assert done == 10 * len(conn.calls)  # ...and counted: done means written
    assert conn.started < 40  # no call started after the interrupt but those in flight
    assert seen[-1] == done  # the last progress report is the true count


def test_calls_hold_fewer_cis_than_links():
    conn = _Conn(sessions=2, delay=0.0)
    ops = _ops(apps=250, links=1200)
    execute(conn, ops, CmdbConfig(batch_size=500, ci_batch_size=100), Tally())
    sizes = sorted((len(kinds), kinds) for _s, _e, kinds in conn.calls)
    assert all(o.done for o in ops)
    # 250 apps: 100 + 100 + 50 (then links fill the rest of that call: 50 apps weigh 250
    # links), 1200 links: 250 + 500 + 450
    assert len(conn.calls) == 5
    assert sum(1 for _n, kinds in sizes if kinds == {"a"}) == 2
    assert sum(1 for _n, kinds in sizes if kinds == {"a", "l"}) == 1


def test_equal_sizes_cut_exactly_as_one_stream():
    conn = _Conn(sessions=3, delay=0.0)
    ops = _ops(apps=15, links=330)
    execute(conn, ops, CmdbConfig(batch_size=25, ci_batch_size=100), Tally())
    assert len(conn.calls) == 14  # ceil(345 / 25): CIs weigh as much as links here


def test_a_stop_raised_by_the_progress_callback_still_settles_the_calls_in_flight():
    # the CLI's first Ctrl-C asks to stop "after the current batch": its progress wrapper
    # raises KeyboardInterrupt from then on, every time it is called
    conn = _Conn(sessions=4, delay=0.05)
    ops = _ops(apps=10, links=390)
    calls = []

    def progress(done, total):
        calls.append(done)
        if len(calls) >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        execute(conn, ops, CmdbConfig(batch_size=10), Tally(), progress=progress)
    assert conn.in_flight == 0
    assert sum(o.done for o in ops) == 10 * len(conn.calls)  # every answered call settled
    assert conn.started < 40
