"""ServiceNowUserDirectory planning against a recording fake of its connection (no HTTP).

The real-HTTP versions of these checks (sandbox request log) live in
tests/integration/correlation.
"""

import pytest

from cisync_lib import ServiceNowRequestError
from cisync_lib.correlation import (
    Correlator,
    CorrelatorConfig,
    ReasonCode,
    ServiceNowUserDirectory,
    Status,
)
from cisync_lib.correlation._servicenow import is_query_safe
from cisync_lib.correlation._text import loose_fold

from .conftest import user


class FakeConnection:
    """Answers encoded queries of the forms the directory sends, like ServiceNow would."""

    def __init__(self, users, fail_on=()):
        self.rows = [
            {
                "sys_id": u.sys_id,
                "user_name": u.user_name,
                "email": u.email,
                "active": "true" if u.active else "false",
                "sys_class_name": u.sys_class_name,
            }
            for u in users
        ]
        self.queries = []
        self.fail_on = set(fail_on)
        self.request_count = 0

    def query(self, table, *, query="", fields=(), page_size=None):
        self.request_count += 1
        self.queries.append((table, query, tuple(fields)))
        if any(v in query for v in self.fail_on):
            raise ServiceNowRequestError(operation="query", table=table, status=500, detail="boom")
        if not query:
            return iter(list(self.rows))
        conditions = []
        for part in query.split("^OR"):
            field, sep, values = part.partition("IN")
            assert sep, part
            conditions.append((field, {loose_fold(v) for v in values.split(",")}))
        return iter([r for r in self.rows if any(loose_fold(r[f]) in vs for f, vs in conditions)])


U4 = user("U4", "jdoe", "jdoe@contoso.com")


def test_keyed_mode_chunks_and_combines_fields():
    """Few names: chunked IN queries, one per chunk, email and user_name in one query."""
    names = [f"user{i}@contoso.com" for i in range(25)] + ["jdoe@contoso.com"]
    conn = FakeConnection([U4])
    directory = ServiceNowUserDirectory(conn)
    results = Correlator(CorrelatorConfig(chunk_size=10)).resolve(names, directory)
    assert len(conn.queries) == 3  # ceil(26 / 10)
    table, query, fields = conn.queries[0]
    assert table == "sys_user"
    assert query.startswith("emailINuser0@contoso.com,user1@contoso.com,")
    assert "^ORuser_nameINuser0@contoso.com," in query
    assert "active" not in query  # inactive users are always fetched
    assert set(fields) >= {"sys_id", "email", "user_name", "active", "sys_class_name"}
    assert results[-1].user.sys_id == "U4"


def test_snapshot_mode_above_the_threshold():
    """Many names: one read of sys_user with only the needed fields, no query."""
    names = [f"user{i}@contoso.com" for i in range(30)] + ["jdoe@contoso.com"]
    conn = FakeConnection([U4])
    directory = ServiceNowUserDirectory(conn)
    results = Correlator(CorrelatorConfig(keyed_threshold=20)).resolve(names, directory)
    assert [q for _, q, _ in conn.queries] == [""]
    assert results[-1].user.sys_id == "U4"


def test_nothing_to_look_up_sends_nothing():
    """Case 7 planning: skipped names produce no request."""
    conn = FakeConnection([U4])
    Correlator().resolve(
        ["", "N/A", "0123456789abcdef0123456789abcdef"], ServiceNowUserDirectory(conn)
    )
    assert conn.queries == []


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("jdoe@contoso.com", True),
        ("o'brien@contoso.com", True),
        ("a,b@contoso.com", False),
        ("x^oractive=true@contoso.com", False),
        ("a=b", False),
        ("a\nb", False),
        ("javascript:gs.getuserid()", False),
        ("", False),
    ],
)
def test_query_safety_predicate(value, safe):
    """^ , = control characters and javascript: never go into an encoded query."""
    assert is_query_safe(value) is safe


def test_case_12_unsafe_values_never_reach_a_query():
    """Case 12: unsafe values are refused (UNSAFE_QUERY_VALUE), the injection is unparseable, o'brien matches."""
    obrien = user("OB", "obrien", "o'brien@contoso.com")
    conn = FakeConnection([U4, obrien])
    names = [
        "a,b@contoso.com",
        "x@contoso.com^ORactive=true",
        "x^ORactive=true@contoso.com",
        "o'brien@contoso.com",
    ]
    results = Correlator().resolve(names, ServiceNowUserDirectory(conn))
    sent = " ".join(q for _, q, _ in conn.queries)
    assert "a,b" not in sent
    assert "active=true" not in sent
    assert "^oractive" not in sent
    assert [(r.status, r.reason) for r in results] == [
        (Status.SKIPPED, ReasonCode.UNSAFE_QUERY_VALUE),
        (Status.SKIPPED, ReasonCode.UNPARSEABLE),
        (Status.SKIPPED, ReasonCode.UNSAFE_QUERY_VALUE),
        (Status.MATCHED, ReasonCode.MATCHED),
    ]
    assert results[3].user.sys_id == "OB"


def test_case_12_unsafe_values_resolve_through_a_snapshot_when_asked():
    """With unsafe_values="snapshot" the run reads a snapshot and resolves every name client-side."""
    odd = user("ODD", "odd", "a,b@contoso.com")
    conn = FakeConnection([U4, odd])
    directory = ServiceNowUserDirectory(conn, unsafe_values="snapshot")
    (result,) = Correlator().resolve(["a,b@contoso.com"], directory)
    assert [q for _, q, _ in conn.queries] == [""]
    assert (result.status, result.user.sys_id) == (Status.MATCHED, "ODD")


def test_case_14_a_failed_chunk_is_lookup_error_not_no_candidate():
    """Case 14: names of the failing chunk are ERROR/LOOKUP_ERROR; other chunks resolve."""
    names = [f"user{i}@contoso.com" for i in range(10)] + ["jdoe@contoso.com"]
    conn = FakeConnection([U4], fail_on={"user0@"})
    results = Correlator(CorrelatorConfig(chunk_size=5)).resolve(
        names, ServiceNowUserDirectory(conn)
    )
    assert [r.reason for r in results[:5]] == [ReasonCode.LOOKUP_ERROR] * 5
    assert all(r.status is Status.ERROR for r in results[:5])
    assert [r.reason for r in results[5:10]] == [ReasonCode.NO_CANDIDATE] * 5
    assert results[10].user.sys_id == "U4"
    assert "boom" in results[0].message


def test_snapshot_failure_is_lookup_error_for_everyone():
    """A failed snapshot makes every looked-up name LOOKUP_ERROR."""
    conn = FakeConnection([U4], fail_on={""})
    directory = ServiceNowUserDirectory(conn, mode="snapshot")
    (result,) = Correlator().resolve(["jdoe@contoso.com"], directory)
    assert result.reason is ReasonCode.LOOKUP_ERROR


def test_server_superset_is_rechecked():
    """The fake compares accent-insensitively, like ServiceNow; the client rejects jose for josé."""
    jose = user("U7", "jose", "jose@contoso.com")
    conn = FakeConnection([jose])
    (result,) = Correlator().resolve(["josé@contoso.com"], ServiceNowUserDirectory(conn))
    assert len(conn.queries) == 1
    assert (result.status, result.reason) == (Status.UNMATCHED, ReasonCode.NO_CANDIDATE)
    assert "server_candidate_rejected:U7" in result.warnings
