"""HTTP policy without HTTP: retry configuration, session trust, limiter, fan-out, redaction."""

import os
import threading

import pytest
import requests
from urllib3.exceptions import ConnectTimeoutError, ProtocolError, ReadTimeoutError

from cisync_lib._http import PolicyRetry
from cisync_lib._http import make_retry as _make_retry
from cisync_lib.defender import HttpPolicy, RateLimit
from cisync_lib.defender._config import LEGACY_HTTP_POLICY
from cisync_lib.defender._http import (
    _cut_short,
    _error_detail,
    make_session,
    redact,
    session_policy,
)
from cisync_lib.defender._limiter import RateLimiter, reset_shared_limiters, shared_limiter
from cisync_lib.defender._reader import run_tasks

POLICY = HttpPolicy(retries=4, backoff_factor=0.5, backoff_jitter=0.25, retry_after_max=7)


def make_retry(policy, limiter=None):
    """The retry a Defender session mounts for ``policy``."""
    return _make_retry(session_policy(policy, verify=True, proxies={}), pacer=limiter)


def test_retry_covers_throttling_server_errors_and_connections():
    """429/502/503/504, connection errors and read timeouts are retried, for GET and POST."""
    retry = make_retry(POLICY)
    assert isinstance(retry, PolicyRetry)
    assert retry.status_forcelist == {429, 502, 503, 504}
    assert {"GET", "POST"} <= set(retry.allowed_methods)
    assert (retry.total, retry.connect, retry.read, retry.status, retry.other) == (4, 4, 4, 4, 0)
    assert retry.respect_retry_after_header
    assert not retry.raise_on_status
    assert retry.is_retry("GET", 429, has_retry_after=True)
    assert retry.is_retry("POST", 503)
    assert not retry.is_retry("GET", 500)


def test_retry_after_is_honoured_and_capped():
    """Retry-After in seconds or as an HTTP date is read by urllib3, then capped."""
    retry = make_retry(POLICY)
    assert retry.parse_retry_after("1") == 1
    assert retry.parse_retry_after("3600") == 7
    assert retry.parse_retry_after("Wed, 21 Oct 2099 07:28:00 GMT") == 7


def test_backoff_is_exponential_with_jitter_and_survives_increments():
    """Each consecutive error doubles the backoff, plus up to backoff_jitter of jitter."""
    limiter = RateLimiter(1000, 1.0)
    retry = make_retry(POLICY, limiter)
    for _ in range(3):
        retry = retry.increment("GET", "/x", error=ConnectTimeoutError("slow"))
    assert retry.pacer is limiter
    assert retry.max_retry_after == 7
    assert 0.5 * 2**2 <= retry.get_backoff_time() <= 0.5 * 2**2 + 0.25
    retry = retry.increment("GET", "/x", error=ReadTimeoutError(None, "/x", "read"))
    with pytest.raises(Exception, match="Max retries"):
        retry.increment("GET", "/x", error=ReadTimeoutError(None, "/x", "read"))


def test_session_ignores_the_environment(monkeypatch, tmp_path):
    """verify and proxies are the caller's even when REQUESTS_CA_BUNDLE and HTTPS_PROXY are set."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/env/ca.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/env/ca.pem")
    monkeypatch.setenv("HTTPS_PROXY", "http://env-proxy:1")
    ca = str(tmp_path / "ca.pem")
    session = make_session(POLICY, verify=ca, proxies={"https": "http://proxy:3128"})
    assert session.trust_env is False
    merged = session.merge_environment_settings("https://graph.example/x", {}, None, None, None)
    assert merged["verify"] == ca
    assert merged["proxies"] == {"https": "http://proxy:3128"}
    adapter = session.get_adapter("https://graph.example/")
    assert adapter.timeout == (10.0, 60.0)
    assert isinstance(adapter.max_retries, PolicyRetry)
    assert os.environ["REQUESTS_CA_BUNDLE"] == "/env/ca.pem"


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_limiter_keeps_a_strict_sliding_window_counted_at_completion():
    """A slot stays taken from send until one window after the response."""
    clock = FakeClock()
    limiter = RateLimiter(3, 60.0, clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(7):
        limiter.acquire()
        sent.append(clock.now)
        clock.now += 0.5  # the response takes half a second
        limiter.release()
        clock.now += 0.5
    assert sent == [0.0, 1.0, 2.0, 60.5, 61.5, 62.5, 121.0]
    assert clock.slept == [57.5, 57.5]
    done = [t + 0.5 for t in sent]
    for i, finished in enumerate(done):  # the server may count at any time in [sent, done]
        assert all(s >= finished + 60.0 for s in sent[i + 3 :])


def test_a_request_in_flight_holds_its_slot_until_released():
    """With one slot, the next request waits for the previous response, not a timer."""
    limiter = RateLimiter(1, 0.001)
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
    threading.Event().wait(0.05)  # give the second request every chance to jump the queue
    order.append("first answered")
    limiter.release()
    thread.join(5)
    assert order == ["first answered", "second sent"]


def test_shared_limiters_are_per_key_and_resettable():
    """Sources of one tenant share one budget."""
    reset_shared_limiters()
    first = shared_limiter("mdca|t", 30, 60.0)
    assert shared_limiter("mdca|t", 30, 60.0) is first
    assert shared_limiter("mdca|other", 30, 60.0) is not first
    reset_shared_limiters()
    assert shared_limiter("mdca|t", 30, 60.0) is not first


def test_rate_limit_defaults():
    """Graph adapts up to 16 in flight in batches of 20; a fixed rate can be pinned."""
    policy = HttpPolicy()
    assert policy.rate_limit is None
    assert (policy.adaptive, policy.concurrency, policy.batch_size) == (True, 16, 20)
    assert HttpPolicy(rate_limit=RateLimit(calls=20, period=1.0)).rate_limit.calls == 20
    assert LEGACY_HTTP_POLICY.rate_limit == RateLimit(calls=30, period=60.0)
    assert LEGACY_HTTP_POLICY.concurrency == 4
    with pytest.raises(ValueError):
        HttpPolicy(batch_size=21)  # Graph refuses batches above 20


def test_fan_out_is_bounded_and_ordered():
    """At most `concurrency` tasks run at once; results come back in task order."""
    barrier = threading.Barrier(4, timeout=10)
    lock = threading.Lock()
    running = [0, 0]

    def task(i):
        def run():
            with lock:
                running[0] += 1
                running[1] = max(running)
            barrier.wait()  # proves four run together
            with lock:
                running[0] -= 1
            return i

        return run

    done = []
    assert run_tasks([task(i) for i in range(12)], 4, lambda i, r: done.append(i)) == list(
        range(12)
    )
    assert running[1] == 4
    assert sorted(done) == list(range(12))


def test_fan_out_fails_on_the_first_error():
    """A failing task fails the whole fan-out; sequentially, later tasks never start."""
    started = []

    def task(i):
        def run():
            started.append(i)
            if i == 2:
                raise ValueError("page 3")
            return i

        return run

    with pytest.raises(ValueError, match="page 3"):
        run_tasks([task(i) for i in range(10)], 1)
    assert started == [0, 1, 2]
    with pytest.raises(ValueError, match="page 3"):
        run_tasks([task(i) for i in range(10)], 3)


def test_redaction_masks_tokens_and_jwts():
    """Anything shaped like a token is masked in texts we put into errors."""
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    text = redact(f"header Authorization: Bearer {jwt} and Token 0123456789abcdef and {jwt}")
    assert jwt not in text
    assert "0123456789abcdef" not in text
    assert "Bearer ***" in text


def response(status, body, content_type="application/json"):
    resp = requests.Response()
    resp.status_code = status
    resp._content = body.encode()
    resp.headers["Content-Type"] = content_type
    resp.reason = "Reason"
    return resp


def test_error_detail_prefers_graphs_error_message():
    """Graph's error code and message, else the start of the body, else the reason."""
    graph = '{"error": {"code": "Forbidden", "message": "Missing role",'
    graph += ' "innerError": {"request-id": "r-1"}}}'
    assert _error_detail(response(403, graph)) == ("Forbidden Missing role", "r-1")
    assert _error_detail(response(500, "boom\nthere", "text/plain")) == ("boom there", None)
    assert _error_detail(response(502, "")) == ("Reason", None)


def test_only_bodies_cut_short_are_retried_above_urllib3():
    """A body that broke off is retried; exhausted retries and TLS errors are not."""
    assert _cut_short(requests.exceptions.ChunkedEncodingError(ProtocolError("cut")))
    assert _cut_short(requests.ConnectionError(ReadTimeoutError(None, "/x", "read")))
    assert not _cut_short(requests.ConnectionError(Exception("Max retries exceeded")))
    assert not _cut_short(requests.exceptions.SSLError("bad certificate"))
