"""Correlation through the HTTPS sandbox with the real connection; the request log is the spy."""

import math

from cisync_lib import SnUser
from cisync_lib.correlation import (
    Correlator,
    CorrelatorConfig,
    ReasonCode,
    ServiceNowUserDirectory,
    Status,
)
from cisync_lib.sandbox import FaultRule

from .conftest import connect, insert_users, sid, user_queries

U4 = SnUser(sys_id=sid("U4"), user_name="jdoe", email="jdoe@contoso.com")
U7 = SnUser(sys_id=sid("U7"), user_name="jose", email="jose@contoso.com")
OBRIEN = SnUser(sys_id=sid("OB"), user_name="obrien", email="o'brien@contoso.com")
LEAVER = SnUser(sys_id=sid("U3"), user_name="leaver", email="leaver@contoso.com", active=False)


def test_case_7_skipped_names_send_zero_requests(sandbox):
    """Case 7: anonymised, empty, placeholder and garbage names cause no ServiceNow request."""
    insert_users(sandbox.store, [U4])
    conn = connect(sandbox)
    sandbox.request_log.clear()
    names = ["0123456789abcdef0123456789abcdef", "", "  ", "N/A", "jane doe@contoso.com"]
    each = Correlator().resolve_each(names, ServiceNowUserDirectory(conn))
    assert [(r.status, r.reason) for r in each] == [
        (Status.SKIPPED, ReasonCode.ANONYMIZED),
        (Status.SKIPPED, ReasonCode.EMPTY_INPUT),
        (Status.SKIPPED, ReasonCode.EMPTY_INPUT),
        (Status.SKIPPED, ReasonCode.EMPTY_INPUT),
        (Status.SKIPPED, ReasonCode.UNPARSEABLE),
    ]
    assert sandbox.request_log.round_trips(service="servicenow") == 0
    assert conn.request_count == 0


def test_case_12_injection_never_reaches_a_query(sandbox):
    """Case 12: exactly one request, whose query holds neither unsafe value; o'brien matches."""
    insert_users(sandbox.store, [U4, OBRIEN, LEAVER])
    conn = connect(sandbox)
    sandbox.request_log.clear()
    names = [
        "a,b@contoso.com",
        "x@contoso.com^ORactive=true",
        "x^ORactive=true@contoso.com",
        "o'brien@contoso.com",
    ]
    results = Correlator().resolve(names, ServiceNowUserDirectory(conn))
    queries = user_queries(sandbox)
    assert len(queries) == 1
    assert queries[0].startswith("emailINo'brien@contoso.com^ORuser_nameINo'brien@contoso.com")
    assert "a,b" not in queries[0]
    assert "active=true" not in queries[0]
    assert [(r.status, r.reason) for r in results] == [
        (Status.SKIPPED, ReasonCode.UNSAFE_QUERY_VALUE),
        (Status.SKIPPED, ReasonCode.UNPARSEABLE),
        (Status.SKIPPED, ReasonCode.UNSAFE_QUERY_VALUE),
        (Status.MATCHED, ReasonCode.MATCHED),
    ]
    assert results[3].user.sys_id == OBRIEN.sys_id
    # the rows returned are only the one asked for: nothing widened the query
    assert sum(e.status == 200 for e in sandbox.request_log.entries) == 1


def test_case_12_snapshot_fallback_resolves_unsafe_values(sandbox):
    """With unsafe_values="snapshot" one scan resolves the odd address and no value is sent."""
    odd = SnUser(sys_id=sid("ODD"), user_name="odd", email="a,b@contoso.com")
    insert_users(sandbox.store, [U4, odd])
    conn = connect(sandbox)
    sandbox.request_log.clear()
    directory = ServiceNowUserDirectory(conn, unsafe_values="snapshot")
    (result,) = Correlator().resolve(["a,b@contoso.com"], directory)
    assert (result.status, result.user.sys_id) == (Status.MATCHED, odd.sys_id)
    assert all("a,b" not in q for q in user_queries(sandbox))


def test_case_10_server_superset_rejected_on_the_client(sandbox):
    """Case 10 through the server: whatever it returns for josé, jose@ is never a match."""
    insert_users(sandbox.store, [U4, U7])
    (result,) = Correlator().resolve(
        ["josé@contoso.com"], ServiceNowUserDirectory(connect(sandbox))
    )
    assert (result.status, result.reason) == (Status.UNMATCHED, ReasonCode.NO_CANDIDATE)


def test_case_13_keyed_and_snapshot_request_counts(sandbox):
    """Case 13: 1,000 inputs / 400 distinct -> ceil(400/chunk) x fields requests; snapshot: one scan."""
    people = [
        SnUser(sys_id=sid(f"P{i}"), user_name=f"p{i}", email=f"p{i}@contoso.com")
        for i in range(300)
    ]
    insert_users(sandbox.store, [U4, *people])
    distinct = ["JDoe@contoso.com"] + [f"p{i}@contoso.com" for i in range(399)]
    names = ([*distinct, "jdoe@CONTOSO.com", *distinct[1:]])[:1000]
    names += distinct[: 1000 - len(names)]
    assert len(names) == 1000
    conn = connect(sandbox)
    chunk = 100
    sandbox.request_log.clear()
    results = Correlator(CorrelatorConfig(chunk_size=chunk)).resolve(
        names, ServiceNowUserDirectory(conn)
    )
    assert len(results) == 400
    assert results[0].parsed.normalized == "jdoe@contoso.com"
    assert (results[0].user.sys_id, results[0].occurrences) == (U4.sys_id, 3)
    keyed_requests = sandbox.request_log.round_trips(service="servicenow")
    assert keyed_requests <= math.ceil(400 / chunk) * 2
    assert keyed_requests == conn.request_count
    assert [r.parsed.normalized for r in results[1:4]] == [
        "p0@contoso.com",
        "p1@contoso.com",
        "p2@contoso.com",
    ]
    sandbox.request_log.clear()
    before = conn.request_count
    snap = Correlator(CorrelatorConfig(keyed_threshold=100)).resolve(
        names, ServiceNowUserDirectory(conn)
    )
    assert list(user_queries(sandbox)) == [""]  # one page holds all 301 rows
    assert conn.request_count - before == 1
    assert [(r.status, r.user and r.user.sys_id) for r in snap] == [
        (r.status, r.user and r.user.sys_id) for r in results
    ]


def test_case_14_failed_chunk_is_lookup_error(sandbox):
    """Case 14: one chunk answers 503 through every retry; its names are LOOKUP_ERROR, the rest resolve."""
    insert_users(sandbox.store, [U4])
    # one session: chunks go one after the other, so "the second request" is the second chunk
    conn = connect(sandbox, retries=2, backoff=0.0, sessions=1)
    names = [f"user{i}@contoso.com" for i in range(10)] + ["jdoe@contoso.com"]
    sandbox.request_log.clear()
    # the first chunk passes; the second fails on its first attempt and both retries
    sandbox.faults.add(
        FaultRule(
            service="servicenow", path="/api/now/table/sys_user", status=503, after=1, times=3
        )
    )
    results = Correlator(CorrelatorConfig(chunk_size=5)).resolve(
        names, ServiceNowUserDirectory(conn)
    )
    assert [r.reason for r in results[:5]] == [ReasonCode.NO_CANDIDATE] * 5
    assert [(r.status, r.reason) for r in results[5:10]] == [
        (Status.ERROR, ReasonCode.LOOKUP_ERROR)
    ] * 5
    assert (results[10].status, results[10].user.sys_id) == (Status.MATCHED, U4.sys_id)
    statuses = [e.status for e in sandbox.request_log.entries]
    assert statuses == [200, 503, 503, 503, 200]


def test_inactive_users_are_fetched(sandbox):
    """Inactive rows come back from the server (no active=true filter): a leaver is MATCHED_INACTIVE."""
    insert_users(sandbox.store, [LEAVER])
    (result,) = Correlator().resolve(
        ["leaver@contoso.com"], ServiceNowUserDirectory(connect(sandbox))
    )
    assert (result.status, result.reason) == (Status.MATCHED, ReasonCode.MATCHED_INACTIVE)
