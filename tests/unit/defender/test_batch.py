"""The JSON-batch client without HTTP: inner answers judged one by one, retries, narrowing.

A scripted stand-in for the HTTP client plays Graph's side as its docs
describe it (the batch answers 200; each inner request has its own status;
a throttled one carries its own Retry-After).
"""

import time
from email.utils import formatdate

import pytest

from cisync_lib import DefenderHttpError, DefenderPayloadError
from cisync_lib._http import make_retry
from cisync_lib.defender import HttpPolicy
from cisync_lib.defender._batch import GraphBatcher
from cisync_lib.defender._http import Where, session_policy

ROOT = "https://graph.example"


class Graph:
    """Answers each batch: ``allow`` inner requests per round get 200, the rest 429."""

    def __init__(self, allow=100, status=None, drop_id=False, retry_after="2", **policy):
        self.policy = HttpPolicy(retries=3, **policy)
        self.retry_after = retry_after
        self.limiter = None
        self.allow, self.status, self.drop_id = allow, status, drop_id
        self.sent = []

    def retry(self):
        return make_retry(session_policy(self.policy, verify=True, proxies={}))

    def fetch_json(self, method, url, where, *, body=None, adapt=True, params=None):
        assert (method, url, adapt) == ("POST", ROOT + "/beta/$batch", False)
        requests = body["requests"]
        assert all(r["url"].startswith("/security/") for r in requests)  # relative, no version
        # the envelope carries the token; inner requests carry no headers, so none leaks into
        # a body that a proxy or a debug log might keep
        assert all(set(r) == {"id", "method", "url"} for r in requests)
        self.sent.append(len(requests))
        responses = []
        for n, r in enumerate(requests):
            if self.status is not None:
                responses.append({"id": r["id"], "status": self.status, "headers": {}, "body": {}})
            elif n < self.allow:
                responses.append({"id": r["id"], "status": 200, "body": {"value": [r["url"]]}})
            else:
                error = {"error": {"code": "TooManyRequests", "message": "slow down"}}
                headers = {"Retry-After": self.retry_after}
                responses.append({"id": r["id"], "status": 429, "headers": headers, "body": error})
        if self.drop_id:
            responses.pop()
        return {"responses": list(reversed(responses))}  # no order is promised


def urls(n):
    return [f"{ROOT}/beta/security/apps/{i}/users" for i in range(n)]


def wheres(n):
    return [Where(entity="users", stream_id="s", app_id=str(i), page=1) for i in range(n)]


def test_answers_come_back_in_request_order_whatever_the_batch_order():
    graph, slept = Graph(), []
    answers = GraphBatcher(graph, ROOT, sleep=slept.append).get_all(urls(25), wheres(25))
    assert [a.body["value"][0] for a in answers] == [u[len(ROOT) + 5 :] for u in urls(25)]
    assert graph.sent == [20, 5]  # at most 20 per batch
    assert slept == []


def test_only_throttled_requests_are_resent_and_batches_narrow_to_what_got_through():
    graph, slept = Graph(allow=3), []
    batcher = GraphBatcher(graph, ROOT, sleep=slept.append)
    answers = batcher.get_all(urls(20), wheres(20))
    assert len(answers) == 20
    assert all(a.status == 200 for a in answers)
    assert graph.sent[0] == 20
    # 17 left: halved after each throttled round down to what got through, doubled after
    # a clean round
    assert graph.sent[1:] == [10, 5, 3, 6, 3, 2]
    assert slept == [2.0] * 4  # the Retry-After of each throttled round
    assert (batcher.inner_sent, batcher.inner_retried) == (49, 29)


def test_a_final_inner_error_is_handed_back_not_retried():
    graph = Graph(status=404)
    answers = GraphBatcher(graph, ROOT, sleep=lambda s: None).get_all(urls(3), wheres(3))
    assert [a.status for a in answers] == [404, 404, 404]
    assert graph.sent == [3]


def test_retries_without_progress_end_in_a_named_error():
    graph = Graph(status=503)
    with pytest.raises(DefenderHttpError, match="still failing after 3 retries") as info:
        GraphBatcher(graph, ROOT, sleep=lambda s: None).get_all(urls(2), wheres(2))
    assert (info.value.status, info.value.stream_id, info.value.page) == (503, "s", 1)
    assert len(graph.sent) == 4  # the first try and 3 retries


def test_an_unanswered_id_is_a_payload_error():
    with pytest.raises(DefenderPayloadError, match="no answer for request id"):
        GraphBatcher(Graph(drop_id=True), ROOT).get_all(urls(2), wheres(2))


@pytest.mark.parametrize(
    ("retry_after", "cap", "low", "high"),
    [
        ("3600", 60.0, 60.0, 60.0),  # an hour would stall the sync: capped
        ("7", 5.0, 5.0, 5.0),
        ("HTTP-date", 60.0, 25.0, 30.0),  # RFC 9110 allows either form
    ],
)
def test_an_inner_retry_after_is_read_as_a_plain_one_is(retry_after, cap, low, high):
    """Seconds or an HTTP date, capped at retry_after_max, like urllib3 reads a plain 429."""
    if retry_after == "HTTP-date":
        retry_after = formatdate(time.time() + 30, usegmt=True)
    graph, slept = Graph(allow=1, retry_after=retry_after, retry_after_max=cap), []
    GraphBatcher(graph, ROOT, sleep=slept.append).get_all(urls(2), wheres(2))
    assert len(slept) == 1
    assert low <= slept[0] <= high
