"""The session pool against the sandbox's session synchronisation and API transaction pool.

The oracle is the sandbox's gate, which sees every request arrive: how many were
present at once overall and per session cookie, and how many had to wait.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from cisync_lib import ConfigError
from cisync_lib.sandbox import FaultRule, SandboxConfig, ServiceNowOptions
from cisync_lib.servicenow import BasicAuth, ServiceNowConnection

TABLE = "sys_user"


def _connect(sb, sessions):
    auth = BasicAuth(username=sb.servicenow_username, password=sb.servicenow_password)
    return ServiceNowConnection(
        sb.servicenow_url, auth=auth, verify=str(sb.ca_file), sessions=sessions, backoff=0.0
    )


def _raw(sb, session=None):
    session = session or requests.Session()
    session.trust_env = False
    session.verify = str(sb.ca_file)
    session.auth = (sb.servicenow_username, sb.servicenow_password)
    return session


@pytest.fixture
def sb(cisync_sandbox_factory):
    return cisync_sandbox_factory(SandboxConfig(services=("servicenow",)))


def test_many_threads_never_exceed_the_pool_and_never_share_a_session(sb):
    sb.faults.add(FaultRule(service="servicenow", kind="latency", delay=0.05))
    conn = _connect(sb, sessions=3)
    sb.servicenow_gate.reset_stats()
    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(lambda _: conn.count(TABLE), range(24)))
    stats = sb.servicenow_gate.stats
    assert len(set(counts)) == 1
    assert stats.max_requests <= 3  # never more in flight than sessions
    assert stats.max_requests_per_session == 1  # each session carries one request at a time
    assert stats.session_waits == 0
    assert stats.sessions == 3  # one instance session per client session, kept by its cookie
    assert conn.sessions == 3


def test_one_session_runs_one_request_at_a_time(sb):
    sb.faults.add(FaultRule(service="servicenow", kind="latency", delay=0.2))
    shared = _raw(sb)
    shared.get(f"{sb.servicenow_url}/api/now/table/{TABLE}", params={"sysparm_limit": 1})
    assert "JSESSIONID" in shared.cookies.get_dict()  # the instance handed out a session
    sb.servicenow_gate.reset_stats()
    with ThreadPoolExecutor(max_workers=3) as pool:
        statuses = list(
            pool.map(
                lambda _: (
                    shared.get(
                        f"{sb.servicenow_url}/api/now/table/{TABLE}", params={"sysparm_limit": 1}
                    ).status_code
                ),
                range(3),
            )
        )
    stats = sb.servicenow_gate.stats
    assert statuses == [200, 200, 200]
    assert stats.max_requests_per_session == 3  # all three arrived together...
    assert stats.max_running == 1  # ...and ran one after the other
    assert stats.session_waits == 2
    assert stats.sessions == 0  # no new session: the cookie was honoured


def test_the_api_pool_queues_then_refuses(cisync_sandbox_factory):
    options = ServiceNowOptions(api_threads=2, api_queue=1)
    sb = cisync_sandbox_factory(SandboxConfig(services=("servicenow",), servicenow=options))
    sb.faults.add(FaultRule(service="servicenow", kind="latency", delay=0.4))
    url = f"{sb.servicenow_url}/api/now/table/{TABLE}"
    sb.servicenow_gate.reset_stats()
    with ThreadPoolExecutor(max_workers=6) as pool:
        # no cookie: every request is a session of its own, so only the pool limits them
        responses = list(pool.map(lambda _: _raw(sb).get(url), range(6)))
    stats = sb.servicenow_gate.stats
    statuses = sorted(r.status_code for r in responses)
    assert stats.max_running == 2
    assert stats.max_queued == 1
    assert statuses.count(429) == stats.refused_pool >= 1
    assert set(statuses) == {200, 429}
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.json()["error"]["message"] == "Rate limit exceeded"


def test_the_session_count_is_checked(sb):
    with pytest.raises(ConfigError, match="sessions"):
        _connect(sb, sessions=0)


def test_one_session_restores_serial_requests(sb):
    sb.faults.add(FaultRule(service="servicenow", kind="latency", delay=0.02))
    conn = _connect(sb, sessions=1)
    sb.servicenow_gate.reset_stats()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: conn.count(TABLE), range(8)))
    stats = sb.servicenow_gate.stats
    assert stats.max_requests == 1
    assert stats.sessions == 1


@pytest.mark.parametrize("sessions", [1, 3, 4])
def test_query_all_reads_every_row_once_in_sys_id_order(cisync_sandbox_factory, sessions):
    sb = cisync_sandbox_factory(SandboxConfig(size="tiny", services=("servicenow",)))
    auth = BasicAuth(username=sb.servicenow_username, password=sb.servicenow_password)
    conn = ServiceNowConnection(
        sb.servicenow_url, auth=auth, verify=str(sb.ca_file), sessions=sessions,
        narrow_page_size=7,
    )  # fmt: skip
    expected = sorted(r["sys_id"] for r in sb.store.query(TABLE))
    assert len(expected) > 30  # several pages and ranges
    sb.servicenow_gate.reset_stats()
    rows = conn.query_all(TABLE, fields=("user_name", "email"))
    assert [r["sys_id"] for r in rows] == expected
    assert sb.servicenow_gate.stats.max_requests <= sessions
    # and a read narrower than the table: the ranges keep the caller's query
    active = conn.query_all(TABLE, query="active=true", fields=("user_name",))
    assert [r["sys_id"] for r in active] == sorted(
        r["sys_id"] for r in sb.store.query(TABLE, "active=true")
    )


def test_query_all_of_a_single_page_costs_one_request(sb):
    conn = _connect(sb, sessions=4)
    mark = sb.request_log.mark()
    rows = conn.query_all(TABLE, fields=("user_name",))
    assert len(rows) == sb.store.count(TABLE)
    assert sb.request_log.round_trips(since=mark) == 1


def test_throttled_answers_are_counted(sb):
    from cisync_lib.servicenow import BatchItem

    conn = _connect(sb, sessions=2)
    sb.faults.add(FaultRule(service="servicenow", method="GET", kind="status", status=429,
                            retry_after=0, times=2))  # fmt: skip
    sb.faults.add(FaultRule(service="servicenow", method="POST", kind="status", status=503,
                            times=1))  # fmt: skip
    assert conn.count(TABLE) == sb.store.count(TABLE)  # retried through both 429s
    item = BatchItem(id="1", method="POST", table=TABLE, body={"user_name": "x.y"})
    conn.batch([item], chunk_size=1)  # answered 503 (not retried: a POST)
    served = [r.status for r in sb.request_log.entries if r.status in (429, 503)]
    assert sorted(served) == [429, 429, 503]
    assert conn.throttled == 3
