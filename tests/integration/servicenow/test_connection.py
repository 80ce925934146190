"""ServiceNowConnection against the HTTPS sandbox, with unmodified pysnc."""

import time

import attrs
import pytest

from cisync_lib import ServiceNowAuthError, ServiceNowRequestError
from cisync_lib._http import PolicyRetry
from cisync_lib.sandbox import FaultRule, SandboxConfig, ServiceNowOptions
from cisync_lib.servicenow import (
    BasicAuth,
    BatchItem,
    BatchOutcome,
    OAuthClientCredentials,
    OAuthPassword,
    ServiceNowConnection,
    q_eq,
)

TABLE = "core_company"


def wait_for(condition, limit=30.0):
    """Wait until the sandbox has finished a deliberately slow request."""
    deadline = time.monotonic() + limit
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def connect(sb, auth=None, **kw):
    auth = auth or BasicAuth(username=sb.servicenow_username, password=sb.servicenow_password)
    kw.setdefault("timeout", (5.0, 5.0))
    kw.setdefault("backoff", 0.0)
    return ServiceNowConnection(sb.servicenow_url, auth=auth, verify=str(sb.ca_file), **kw)


@pytest.fixture
def sb(cisync_sandbox_factory, monkeypatch):
    # a bogus bundle in the environment must not override the CA we pass
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/nonexistent/ca.pem")
    return cisync_sandbox_factory(SandboxConfig(servicenow=ServiceNowOptions(clock=None)))


def test_every_auth_kind_reads_and_writes(sb):
    kinds = [
        BasicAuth(username=sb.servicenow_username, password=sb.servicenow_password),
        OAuthClientCredentials(client_id=sb.oauth_client_id, client_secret=sb.oauth_client_secret),
        OAuthPassword(
            client_id=sb.oauth_client_id,
            client_secret=sb.oauth_client_secret,
            username=sb.servicenow_username,
            password=sb.servicenow_password,
        ),
    ]
    for n, auth in enumerate(kinds):
        conn = connect(sb, auth)
        sys_id = conn.insert(TABLE, {"name": f"Company {n}"})
        assert sb.store.get(TABLE, sys_id)["name"] == f"Company {n}"
        assert [
            r["name"]
            for r in conn.query(TABLE, query=q_eq("name", f"Company {n}"), fields=["name"])
        ] == [f"Company {n}"]
    assert sb.request_log.round_trips(path_prefix="/oauth_token.do") == 2


def test_paging_by_sys_id_counts_round_trips(sb):
    for n in range(25):
        sb.store.insert(TABLE, {"name": f"C{n:02d}"})
    conn = connect(sb, page_size=10)
    mark = sb.request_log.mark()
    rows = list(conn.query(TABLE, fields=["name"]))
    assert len(rows) == 25
    assert len({r["sys_id"] for r in rows}) == 25
    assert [r["sys_id"] for r in rows] == sorted(r["sys_id"] for r in rows)
    assert len(sb.request_log.since(mark)) == 3
    assert conn.request_count == 3


def test_short_page_is_read_again(sb):
    for n in range(30):
        sb.store.insert(TABLE, {"name": f"C{n:02d}"})
    sb.faults.add(FaultRule(service="servicenow", method="GET", kind="short_page", rows=4, times=1))
    conn = connect(sb, page_size=10)
    rows = list(conn.query(TABLE, fields=["name"]))
    assert sorted(r["name"] for r in rows) == [f"C{n:02d}" for n in range(30)]
    assert conn.short_pages == 1


def test_get_update_delete_and_404(sb):
    conn = connect(sb)
    sys_id = conn.insert(TABLE, {"name": "Acme"})
    conn.update(TABLE, sys_id, {"name": "Acme Corp"})
    assert conn.get(TABLE, sys_id, fields=["name"])["name"] == "Acme Corp"
    conn.delete(TABLE, sys_id)
    assert conn.get(TABLE, sys_id) is None
    with pytest.raises(ServiceNowRequestError) as info:
        conn.update(TABLE, sys_id, {"name": "x"})
    assert info.value.status == 404
    assert info.value.table == TABLE
    assert info.value.sys_id == sys_id


def test_readonly_user_gets_auth_error(sb):
    conn = connect(sb, BasicAuth(username=sb.readonly_username, password=sb.readonly_password))
    with pytest.raises(ServiceNowAuthError) as info:
        conn.insert(TABLE, {"name": "x"})
    assert info.value.status == 403


def test_wrong_password_and_wrong_secret(sb):
    with pytest.raises(ServiceNowAuthError) as info:
        list(connect(sb, BasicAuth(username=sb.servicenow_username, password="wrong")).query(TABLE))
    assert info.value.status == 401
    bad = OAuthClientCredentials(client_id=sb.oauth_client_id, client_secret="wrong")
    with pytest.raises(ServiceNowAuthError) as info:
        list(connect(sb, bad).query(TABLE))
    assert "wrong" not in str(info.value)


def test_retry_on_503_then_give_up_with_status(sb):
    sb.faults.add(FaultRule(service="servicenow", method="GET", kind="status", status=503, times=2))
    conn = connect(sb, retries=3)
    assert list(conn.query(TABLE)) == []
    assert conn.request_count == 3  # two 503s, then the answer
    sb.faults.add(FaultRule(service="servicenow", method="GET", kind="status", status=503))
    with pytest.raises(ServiceNowRequestError) as info:
        list(connect(sb, retries=1).query(TABLE))
    assert info.value.status == 503


def test_post_is_never_retried_and_timeout_is_outcome_unknown(sb):
    sb.faults.add(FaultRule(service="servicenow", method="POST", kind="slow", delay=3.0, times=1))
    conn = connect(sb, timeout=(5.0, 0.5))
    with pytest.raises(ServiceNowRequestError) as info:
        conn.insert(TABLE, {"name": "Slowco"})
    assert info.value.outcome_unknown
    assert info.value.operation == "insert"
    wait_for(
        lambda: sb.request_log.round_trips(method="POST") >= 1
    )  # the slow answer is logged last
    assert sb.request_log.round_trips(method="POST") == 1
    assert sb.store.count(TABLE, "name=Slowco") == 1


def test_dropped_connection_on_write_is_outcome_unknown(sb):
    sb.faults.add(FaultRule(service="servicenow", method="PATCH", kind="drop", times=1))
    conn = connect(sb)
    sys_id = conn.insert(TABLE, {"name": "Dropco"})
    with pytest.raises(ServiceNowRequestError) as info:
        conn.update(TABLE, sys_id, {"name": "Dropco 2"})
    assert info.value.outcome_unknown
    assert sb.store.get(TABLE, sys_id)["name"] == "Dropco 2"  # it did happen


def test_batch_chunks_and_unserviced(sb):
    sb.faults.add(FaultRule(service="servicenow", kind="unserviced", times=3))
    conn = connect(sb)
    items = [
        BatchItem(id=str(n), method="POST", table=TABLE, body={"name": f"B{n}"}) for n in range(7)
    ]
    mark = sb.request_log.mark()
    results = conn.batch(items, chunk_size=3)
    assert all(r.ok for r in results)
    assert sb.store.count(TABLE) == 7
    assert sb.request_log.round_trips(path_prefix="/api/now/v1/batch", since=mark) >= 3


def test_batch_timeout_is_unknown(sb):
    sb.faults.add(
        FaultRule(service="servicenow", path="/api/now/v1/batch", kind="slow", delay=3.0, times=1)
    )
    conn = connect(sb, timeout=(5.0, 0.5))
    results = conn.batch([BatchItem(id="1", method="POST", table=TABLE, body={"name": "Z"})])
    assert results[0].outcome is BatchOutcome.UNKNOWN


def test_a_batch_answered_429_waits_the_connections_max_retry_after_at_most(sb, monkeypatch):
    """Retry-After on the Batch API goes through the one HTTP policy, capped by the connection."""
    waits = []
    monkeypatch.setattr(PolicyRetry, "pause", lambda self, seconds: waits.append(seconds))
    rule = sb.faults.add(
        FaultRule(
            service="servicenow",
            method="POST",
            path="/api/now/v1/batch",
            kind="status",
            status=429,
            retry_after=3600,
            times=1,
        )
    )
    conn = connect(sb, max_retry_after=2.5)
    items = [
        BatchItem(id=str(n), method="POST", table=TABLE, body={"name": f"T{n}"}) for n in (1, 2)
    ]
    mark = sb.request_log.mark()
    results = conn.batch(items)
    assert sb.faults.fired(rule) == 1
    assert waits == [2.5]  # not the hour asked for, nor a fixed cap of its own
    assert all(r.ok for r in results)  # the items did not run, and were sent again
    assert sb.store.count(TABLE) == 2
    assert sb.request_log.round_trips(path_prefix="/api/now/v1/batch", since=mark) == 2


@pytest.mark.parametrize(
    "fault",
    [
        FaultRule(service="servicenow", method="GET", kind="drop", times=2),
        FaultRule(service="servicenow", method="GET", kind="malformed", times=2),
        FaultRule(service="servicenow", method="GET", kind="status", status=500, times=2),
    ],
    ids=["cut-body", "malformed-json", "http-500"],
)
def test_broken_reads_are_tried_again(sb, fault, capfd):
    names = {f"C{n:02d}" for n in range(12)}
    for name in names:
        sb.store.insert(TABLE, {"name": name})
    sb.faults.add(fault)
    conn = connect(sb, page_size=5, retries=3)
    mark = sb.request_log.mark()
    rows = list(conn.query(TABLE, fields=["name"]))
    assert {r["name"] for r in rows} == names  # every row once, none lost to the faults
    assert len(rows) == len(names)
    assert sb.faults.fired(fault) == 2
    assert conn.read_retries == 2
    # the sandbox served three pages plus the two broken answers, and the count agrees
    assert sb.request_log.round_trips(service="servicenow", since=mark) == 5
    assert conn.request_count == 5
    sb.faults.add(attrs.evolve(fault, times=2))
    one = sb.store.query(TABLE)[0]["sys_id"]
    assert conn.get(TABLE, one, fields=["name"])["name"] in names
    assert conn.count(TABLE) == len(names)
    assert "Traceback" not in capfd.readouterr().err  # pysnc never got to print one


def test_broken_reads_give_up_after_the_retries_and_say_so(sb):
    sb.faults.add(FaultRule(service="servicenow", method="GET", kind="malformed"))
    conn = connect(sb, retries=2)
    with pytest.raises(ServiceNowRequestError) as info:
        list(conn.query(TABLE))
    assert "after 3 tries" in str(info.value)
    assert info.value.table == TABLE
    assert sb.request_log.round_trips(service="servicenow") == 3
    sb.faults.clear()
    sb.faults.add(FaultRule(service="servicenow", method="GET", kind="status", status=500))
    with pytest.raises(ServiceNowRequestError) as info:
        list(conn.query(TABLE))
    assert info.value.status == 500
    assert "after 3 tries" in str(info.value)


def test_a_write_answering_500_is_not_repeated(sb):
    sb.faults.add(FaultRule(service="servicenow", method="PATCH", kind="status", status=500))
    conn = connect(sb, retries=3)
    sys_id = conn.insert(TABLE, {"name": "Once"})
    with pytest.raises(ServiceNowRequestError):
        conn.update(TABLE, sys_id, {"name": "Twice"})
    assert sb.request_log.round_trips(method="PATCH") == 1


def test_rows_hidden_by_a_read_acl_are_counted_never_silently_dropped(cisync_sandbox_factory):
    options = ServiceNowOptions(clock=None, read_acl={TABLE: "nameSTARTSWITHHidden"})
    sb = cisync_sandbox_factory(SandboxConfig(servicenow=options))
    names = [f"{'Hidden' if n % 4 == 1 else 'Shown'} {n:02d}" for n in range(12)]
    for n, name in enumerate(names):  # sys_ids in name order: the last row is a shown one
        sb.store.insert(TABLE, {"name": name, "sys_id": f"{n + 1:032x}"})
    shown = sorted(n for n in names if n.startswith("Shown"))
    conn = connect(sb, page_size=5)
    rows = conn.query(TABLE, fields=["name"])
    assert sorted(r["name"] for r in rows) == shown
    assert rows.hidden == 3  # X-Total-Count counted them, the pages left them out
    everything = conn.query_all(TABLE, fields=["name"])
    assert sorted(r["name"] for r in everything) == shown
    assert everything.hidden == 3
    # when only hidden rows remain, the read stops and says how many were held back
    with pytest.raises(ServiceNowRequestError) as info:
        list(conn.query(TABLE, query=q_eq("name", "Hidden 01"), fields=["name"]))
    assert info.value.hidden_rows == 1
    assert "check read ACLs" in str(info.value)
