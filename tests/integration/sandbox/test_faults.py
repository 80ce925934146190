"""Every fault kind, observed by a real client (unmodified pysnc, or requests where pysnc cannot)."""

import pytest
import requests
from pysnc.exceptions import RequestException

from cisync_lib.sandbox import FaultRule

from .conftest import unique

USERS = r"/table/sys_user$"


def _seed(sb, tag, count):
    return [sb.store.insert("sys_user", {"user_name": f"{tag}-{i:02d}"}) for i in range(count)]


def _query(client, tag, batch_size=100):
    gr = client.GlideRecord("sys_user", batch_size=batch_size)
    gr.add_query("user_name", "STARTSWITH", tag)
    gr.query()
    return [r.sys_id for r in gr]


def test_pysnc_retries_a_transient_503(sb, client):
    """Two 503s, then success: pysnc's retry adapter hides them."""
    tag = unique("retry")
    ids = _seed(sb, tag, 2)
    rule = sb.faults.add(FaultRule(method="GET", path=USERS, kind="status", status=503, times=2))
    assert sorted(_query(client, tag)) == sorted(ids)
    assert sb.faults.fired(rule) == 2
    assert [r.status for r in sb.request_log.entries] == [503, 503, 200]


def test_pysnc_gives_up_after_the_last_retry(sb, client):
    """A permanent 503 on GET: five attempts, then requests' RetryError."""
    sb.faults.add(FaultRule(method="GET", path=USERS, kind="status", status=503, retry_after=0))
    with pytest.raises(requests.exceptions.RetryError):
        _query(client, unique("never"))
    assert sb.request_log.round_trips("servicenow", "GET") == 5
    assert {r.fault for r in sb.request_log.entries} == {"status"}


def test_pysnc_honours_retry_after_on_429(sb, client):
    """A 429 with Retry-After is retried after the wait."""
    tag = unique("r429")
    ids = _seed(sb, tag, 1)
    sb.faults.add(FaultRule(path=USERS, kind="status", status=429, retry_after=1, times=1))
    assert _query(client, tag) == ids
    first = sb.request_log.entries[0]
    assert (first.status, first.fault) == (429, "status")


def test_pysnc_does_not_retry_post(sb, client):
    """A 502 on insert is raised after one attempt (POST is never retried)."""
    sb.faults.add(FaultRule(method="POST", kind="status", status=502))
    gr = client.GlideRecord("sys_user")
    gr.initialize()
    gr.user_name = unique("post")
    with pytest.raises(RequestException):
        gr.insert()
    assert sb.request_log.round_trips("servicenow", "POST") == 1
    assert sb.store.count("sys_user", f"user_name={gr.get_value('user_name')}") == 0


def test_added_latency(sb, client):
    """Latency delays the answer but changes nothing else."""
    tag = unique("lat")
    ids = _seed(sb, tag, 1)
    sb.faults.add(FaultRule(kind="latency", delay=0.2, times=1))
    assert _query(client, tag) == ids
    record = sb.request_log.entries[0]
    assert record.fault == "latency"
    assert record.duration_ms >= 200


def test_dropped_connection_mid_response(sb, client):
    """The connection dies half-way through the body: requests raises a connection error."""
    tag = unique("drop")
    _seed(sb, tag, 3)
    sb.faults.add(FaultRule(kind="drop", times=1))
    with pytest.raises(
        (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)
    ):
        _query(client, tag)
    assert len(_query(client, tag)) == 3


def test_dropped_write_leaves_the_outcome_unknown(sb, client):
    """A dropped insert was still applied: the client cannot tell, the store can."""
    name = unique("dropwrite")
    sb.faults.add(FaultRule(method="POST", kind="drop", times=1))
    gr = client.GlideRecord("sys_user")
    gr.initialize()
    gr.user_name = name
    with pytest.raises(
        (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)
    ):
        gr.insert()
    assert sb.store.count("sys_user", f"user_name={name}") == 1


def test_response_slower_than_the_client_timeout(sb, api):
    """pysnc has no timeout; a requests client with one gives up on a slow response."""
    sb.faults.add(FaultRule(kind="slow", delay=2.0, times=1))
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.get(sb.servicenow_url + "/api/now/table/cmdb_rel_type", timeout=(5, 0.3))
    assert sb.request_log.entries[0].fault == "slow"


def test_malformed_json_body(sb, client):
    """A 200 with a truncated JSON body makes pysnc's query fail to decode it."""
    sb.faults.add(FaultRule(method="GET", kind="malformed", times=1))
    with pytest.raises(requests.exceptions.JSONDecodeError):
        _query(client, unique("bad"))


def test_short_page_keeps_the_total(sb, api):
    """A short page has fewer rows than asked while X-Total-Count still counts them all."""
    tag = unique("short")
    ids = _seed(sb, tag, 10)
    sb.faults.add(FaultRule(path=USERS, kind="short_page", rows=2, times=1))
    url = sb.servicenow_url + "/api/now/table/sys_user"
    params = {"sysparm_query": f"user_nameSTARTSWITH{tag}^ORDERBYsys_id", "sysparm_limit": "5",
              "sysparm_fields": "sys_id"}  # fmt: skip
    page = api.get(url, params=params)
    assert len(page.json()["result"]) == 3
    assert page.headers["X-Total-Count"] == "10"
    assert {r["sys_id"] for r in page.json()["result"]} < set(sorted(ids)[:5])
    assert sb.request_log.entries[0].fault == "short_page"
    assert len(api.get(url, params=params).json()["result"]) == 5


def test_short_page_with_pysnc(sb, client):
    """pysnc pages by offset from the rows it holds: after a short page it re-reads rows."""
    tag = unique("shortp")
    ids = sorted(_seed(sb, tag, 10))
    sb.faults.add(FaultRule(path=USERS, kind="short_page", rows=2, times=1))
    seen = [str(s) for s in _query(client, tag, batch_size=5)]
    kept = seen[:3]
    assert set(kept) < set(ids[:5])
    # the next page starts at offset 3, so rows the first page already held come again
    assert seen == kept + ids[3:]
    assert len(set(seen)) < len(seen) or set(seen) != set(ids)


def test_unserviced_batch_items_are_resent(sb, client):
    """Unserviced items come back; pysnc sends them again in a second batch."""
    tag = unique("unserv")
    ids = _seed(sb, tag, 3)
    rule = sb.faults.add(FaultRule(method="PATCH", kind="unserviced", times=2))
    gr = client.GlideRecord("sys_user")
    gr.add_query("user_name", "STARTSWITH", tag)
    gr.query()
    for record in gr:
        record.title = "resent"
    assert gr.update_multiple()
    assert sb.faults.fired(rule) == 2
    batches = [r for r in sb.request_log.entries if r.path == "/api/now/v1/batch"]
    assert [(b.items, b.writes, b.fault) for b in batches] == [(3, 1, "unserviced"), (2, 2, None)]
    assert all(sb.store.get("sys_user", i)["title"] == "resent" for i in ids)


def test_permanently_unserviced_items_make_update_multiple_fail(sb, client):
    """After three attempts pysnc gives up and update_multiple returns False."""
    tag = unique("giveup")
    _seed(sb, tag, 1)
    sb.faults.add(FaultRule(method="PATCH", kind="unserviced"))
    gr = client.GlideRecord("sys_user")
    gr.add_query("user_name", "STARTSWITH", tag)
    gr.query()
    for record in gr:
        record.title = "never"
    assert gr.update_multiple() is False
    assert sb.store.count("sys_user", f"user_nameSTARTSWITH{tag}^title=never") == 0
