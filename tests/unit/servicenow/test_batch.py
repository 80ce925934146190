"""Batch API chunking and per-item outcomes, against a scripted stand-in for the session."""

import base64
import contextlib
import json

import pytest
import requests

from cisync_lib._http import PolicyRetry
from cisync_lib.servicenow import BatchItem, BatchOutcome
from cisync_lib.servicenow._batch import send_batches
from cisync_lib.servicenow._http import instance_policy

POLICY = instance_policy(
    "https://x",
    verify=True,
    timeout=(1.0, 1.0),
    proxies=None,
    retries=0,
    backoff=0.0,
    max_retry_after=5.0,
)


class _Response:
    def __init__(self, status, data=None, headers=None):
        self.status_code = status
        self._data = data
        self.headers = headers or {}
        self.text = json.dumps(data) if data is not None else ""

    def json(self):
        if self._data is None:
            raise ValueError("no body")
        return self._data


class _Session:
    """Answers each batch POST with the next scripted behaviour."""

    def __init__(self, script):
        self.script = list(script)
        self.calls = []

    def __call__(self):
        """Lend itself, as the connection's pool lends a session."""
        return contextlib.nullcontext(self)

    def post(self, url, json):
        self.calls.append(json)
        action = self.script.pop(0)
        if isinstance(action, Exception):
            raise action
        return action(json)


def _serve(payload, *, unserviced=(), status=201):
    served = []
    for req in payload["rest_requests"]:
        if req["id"] in unserviced:
            continue
        body = base64.b64encode(json.dumps({"result": {"sys_id": "s" + req["id"]}}).encode())
        served.append({"id": req["id"], "status_code": status, "body": body.decode()})
    return _Response(
        200,
        {
            "batch_request_id": payload["batch_request_id"],
            "serviced_requests": served,
            "unserviced_requests": list(unserviced),
        },
    )


def _items(n):
    return [
        BatchItem(id=str(i), method="POST", table="t", body={"name": f"n{i}"}) for i in range(n)
    ]


def test_chunks_and_encoding():
    session = _Session([_serve, _serve, _serve])
    ids = iter(range(1, 100))
    results = send_batches(
        session, "https://x/sn", _items(5), policy=POLICY, chunk_size=2, next_id=lambda: next(ids)
    )
    assert [len(c["rest_requests"]) for c in session.calls] == [2, 2, 1]
    first = session.calls[0]["rest_requests"][0]
    assert first["url"].startswith("/sn/api/now/table/t?")
    assert json.loads(base64.b64decode(first["body"])) == {"name": "n0"}
    assert all(r.ok for r in results)
    assert results[3].result == {"sys_id": "s3"}


def test_unserviced_items_are_resent():
    session = _Session([lambda p: _serve(p, unserviced=("1",)), _serve])
    results = send_batches(
        session, "https://x", _items(3), policy=POLICY, chunk_size=10, next_id=lambda: 1
    )
    assert [len(c["rest_requests"]) for c in session.calls] == [3, 1]
    assert all(r.ok for r in results)


def test_unserviced_gives_up_as_not_run():
    session = _Session([lambda p: _serve(p, unserviced=("0",))] * 2)
    results = send_batches(
        session,
        "https://x",
        _items(1),
        policy=POLICY,
        chunk_size=10,
        next_id=lambda: 1,
        retry_unserviced=1,
    )
    assert results[0].outcome is BatchOutcome.NOT_RUN


@pytest.mark.parametrize(
    ("action", "outcome"),
    [
        (requests.ReadTimeout("slow"), BatchOutcome.UNKNOWN),
        (requests.ConnectionError("dropped"), BatchOutcome.UNKNOWN),
        (requests.ConnectTimeout("never sent"), BatchOutcome.NOT_RUN),
        (lambda p: _Response(403, {"error": {"message": "no"}}), BatchOutcome.REFUSED),
        (lambda p: _Response(500, {"error": {"message": "boom"}}), BatchOutcome.UNKNOWN),
    ],
)
def test_failures_are_reported_per_item(action, outcome):
    session = _Session([action])
    results = send_batches(
        session,
        "https://x",
        _items(2),
        policy=POLICY,
        chunk_size=10,
        next_id=lambda: 1,
        retry_unserviced=0,
    )
    assert {r.outcome for r in results} == {outcome}


def test_item_missing_from_answer_is_unknown():
    def partial(payload):
        resp = _serve(payload)
        resp._data["serviced_requests"] = resp._data["serviced_requests"][:1]
        return resp

    session = _Session([partial])
    results = send_batches(
        session, "https://x", _items(2), policy=POLICY, chunk_size=10, next_id=lambda: 1
    )
    assert [r.outcome for r in results] == [BatchOutcome.SERVICED, BatchOutcome.UNKNOWN]


def test_item_error_detail():
    def failing(payload):
        body = base64.b64encode(json.dumps({"error": {"message": "bad", "detail": "why"}}).encode())
        served = [
            {"id": r["id"], "status_code": 400, "body": body.decode()}
            for r in payload["rest_requests"]
        ]
        return _Response(
            200,
            {
                "batch_request_id": payload["batch_request_id"],
                "serviced_requests": served,
                "unserviced_requests": [],
            },
        )

    results = send_batches(
        _Session([failing]), "https://x", _items(1), policy=POLICY, chunk_size=5, next_id=lambda: 1
    )
    assert not results[0].ok
    assert results[0].status == 400
    assert results[0].detail == "bad: why"


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"Retry-After": "3600"}, 5.0),  # capped at the connection's max_retry_after
        ({"Retry-After": "2"}, 2.0),
        ({}, 1.0),  # none given: a second
        ({"Retry-After": "soon"}, 1.0),  # unreadable: as if none were given
    ],
)
def test_a_429_waits_as_the_policy_says_then_resends(monkeypatch, headers, wait):
    """The Batch API's 429 goes through the one HTTP policy: Retry-After read there, capped."""
    waits = []
    monkeypatch.setattr(PolicyRetry, "pause", lambda self, seconds: waits.append(seconds))
    session = _Session([lambda p: _Response(429, {"error": {}}, headers), _serve])
    results = send_batches(
        session, "https://x", _items(2), policy=POLICY, chunk_size=10, next_id=lambda: 1
    )
    assert waits == [wait]
    assert len(session.calls) == 2
    assert all(r.ok for r in results)
