"""The adaptive (AIMD) limit and the legacy sliding window, on a fake clock (no real waits).

Expectations come from the rules as stated (issue 14, TCP's AIMD): grow while
answers are fast and unthrottled (doubling per round until the first
throttling, then one per round), halve on 429/503 once per round, never
below 1 or above the maximum, and hold every request for ``Retry-After``.
"""

import random
import threading

import pytest

from cisync_lib.defender._adaptive import AdaptiveLimiter
from cisync_lib.defender._limiter import RateLimiter


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def answer(limiter, clock, status=200, seconds=0.1, retry_after=None):
    """One request: sent now, answered ``seconds`` later with ``status``."""
    limiter.acquire()
    clock.now += seconds
    limiter.record(status, retry_after=retry_after, kind="get")
    limiter.release()


def test_slow_start_doubles_until_the_maximum():
    clock = FakeClock()
    limiter = AdaptiveLimiter(16, initial=1, clock=clock, sleep=clock.sleep)
    seen = []
    for _ in range(20):
        answer(limiter, clock)
        seen.append(limiter.limit)
    assert seen[:5] == [2, 3, 4, 5, 6]  # +1 per fast answer: doubling per round of answers
    assert max(seen) == 16
    assert limiter.stats().peak_limit == 16


def test_throttling_halves_once_then_increase_is_additive():
    clock = FakeClock()
    limiter = AdaptiveLimiter(16, initial=16, clock=clock, sleep=clock.sleep)
    answer(limiter, clock, status=429)
    assert limiter.limit == 8
    answer(limiter, clock, status=503)  # sent after the cut: a new signal
    assert limiter.limit == 4
    for _ in range(4):  # one round of 4 fast answers adds about one
        answer(limiter, clock)
    assert limiter.limit == 4  # 4 + 1/4 + 1/4.25 + ... < 5
    for _ in range(4):
        answer(limiter, clock)
    assert limiter.limit == 5
    stats = limiter.stats()
    assert (stats.throttled, stats.decreases, stats.maximum) == (2, 2, 16)


def test_many_429s_of_one_round_count_as_one_decrease():
    """Requests in flight together that all get 429 are one signal, not eight."""
    clock = FakeClock()
    limiter = AdaptiveLimiter(8, initial=8, clock=clock, sleep=clock.sleep)
    tickets = []
    for _ in range(8):
        threadless_acquire(limiter, tickets)
    clock.now += 0.1
    for ticket in tickets:
        limiter.record(429, ticket=ticket)
    assert limiter.limit == 4
    assert limiter.stats().throttled == 8
    assert limiter.stats().decreases == 1


def threadless_acquire(limiter, tickets):
    """Take a place as if from another thread (the ticket is kept, the thread-local cleared)."""
    limiter.acquire()
    tickets.append(limiter.started())
    limiter._current.ticket = None  # the place stays taken: in_flight unchanged


def test_the_limit_never_leaves_one_to_maximum():
    clock = FakeClock()
    limiter = AdaptiveLimiter(3, initial=3, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        answer(limiter, clock, status=429)
    assert limiter.limit == 1
    for _ in range(50):
        answer(limiter, clock)
    assert limiter.limit == 3
    with pytest.raises(ValueError):
        AdaptiveLimiter(0)


def test_slow_answers_do_not_raise_the_limit():
    """An answer three times slower than the fastest of its kind means queueing: hold."""
    clock = FakeClock()
    limiter = AdaptiveLimiter(16, initial=4, clock=clock, sleep=clock.sleep)
    answer(limiter, clock, seconds=0.1)
    assert limiter.limit == 5
    for _ in range(5):
        answer(limiter, clock, seconds=1.0)
    assert limiter.limit == 5
    answer(limiter, clock, seconds=0.25)
    assert limiter.limit == 6


def test_retry_after_holds_every_request_not_yet_sent():
    clock = FakeClock()
    limiter = AdaptiveLimiter(4, initial=4, clock=clock, sleep=clock.sleep)
    answer(limiter, clock, status=429, retry_after=5.0)  # at t=0.1, hold until 5.1
    waited = limiter.acquire()
    assert clock.now == pytest.approx(5.1)
    assert waited == pytest.approx(5.0)
    limiter.release()
    assert limiter.stats().waited == pytest.approx(5.0)


def test_a_full_limit_waits_for_a_release():
    """With the limit reached, the next request is sent only after an answer."""
    limiter = AdaptiveLimiter(1, initial=1)
    order = []
    started = threading.Event()

    def second():
        started.set()
        limiter.acquire()
        order.append("second sent")
        limiter.release()

    limiter.acquire()
    thread = threading.Thread(target=second)
    thread.start()
    started.wait(5)
    threading.Event().wait(0.05)
    order.append("first answered")
    limiter.release()
    thread.join(5)
    assert order == ["first answered", "second sent"]
    assert limiter.stats().peak_in_flight == 1


def test_the_legacy_budget_is_a_sliding_window_whatever_the_timing():
    """30 requests per 60 s counted at completion: no 60 s span ever holds 31 sends.

    Random answer times and gaps on a fake clock; a fixed window that resets
    on the minute would let up to 60 through around its reset.
    """
    rng = random.Random(14)
    clock = FakeClock()
    limiter = RateLimiter(30, 60.0, clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(400):
        limiter.acquire()
        sent.append(clock.now)
        clock.now += rng.choice([0.0, 0.05, 0.5, 3.0])
        limiter.release()
        clock.now += rng.choice([0.0, 0.0, 0.1, 2.0])
    for i, start in enumerate(sent):
        inside = [t for t in sent[i:] if t < start + 60.0]
        assert len(inside) <= 30
    assert clock.now > 60.0 * (400 / 30 - 1)  # and it did not stall far beyond the budget


def test_many_threads_never_exceed_the_limit_and_every_answer_is_counted():
    """32 threads, random answers: in flight never above the limit in force nor the maximum."""
    limiter = AdaptiveLimiter(8, initial=2)
    lock = threading.Lock()
    seen = {"in_flight": 0, "over": 0, "throttled": 0}

    def worker(seed):
        rng = random.Random(seed)
        for _ in range(200):
            limiter.acquire()
            with lock:
                seen["in_flight"] += 1
                # a cut may leave more in flight than the new limit; never above the maximum
                seen["over"] += seen["in_flight"] > limiter.maximum
            status = 429 if rng.random() < 0.1 else 200
            with lock:
                seen["throttled"] += status == 429
                seen["in_flight"] -= 1
            limiter.record(status, kind="get")
            limiter.release()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    stats = limiter.stats()
    assert seen["over"] == 0
    assert stats.peak_in_flight <= 8
    assert stats.throttled == seen["throttled"] > 0
    assert 1 <= stats.decreases <= stats.throttled
    assert 1 <= stats.limit <= 8
    limiter.reset_stats()  # the peak restarts from the requests in flight now: none leaked
    assert limiter.stats().peak_in_flight == 0
