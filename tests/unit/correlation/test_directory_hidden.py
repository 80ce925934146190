"""sys_user rows hidden by read ACLs, and failed lookups: unknown users, counted, never absent."""

import pytest

from cisync_lib import ServiceNowRequestError
from cisync_lib.correlation import (
    Correlator,
    CorrelatorConfig,
    ReasonCode,
    ServiceNowUserDirectory,
    Status,
)
from cisync_lib.correlation._text import loose_fold

from .conftest import user

VISIBLE = user("U1", "ann", "ann@contoso.com")
HIDDEN = user("U2", "bob", "bob@contoso.com")


class Rows:
    """What ServiceNowConnection.query returns: an iterator that knows what was held back."""

    def __init__(self, rows, hidden):
        self._rows = iter(rows)
        self._hidden = hidden
        self.done = False

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self._rows)
        except StopIteration:
            self.done = True
            raise

    @property
    def hidden(self):
        return self._hidden if self.done else 0


class AclConnection:
    """Answers like an instance whose read ACL hides some sys_user rows from us."""

    def __init__(self, visible, hidden, tail_raises=False, fail_on=()):
        self.visible, self.hidden = visible, hidden
        self.tail_raises = tail_raises
        self.fail_on = fail_on
        self.request_count = 0

    def _row(self, u):
        return {"sys_id": u.sys_id, "user_name": u.user_name, "email": u.email, "active": "true"}

    def query(self, table, *, query="", fields=(), page_size=None):
        self.request_count += 1
        if any(v in query for v in self.fail_on):
            raise ServiceNowRequestError(operation="query", table=table, status=500, detail="x")

        def matches(u):
            if not query:
                return True
            values = {
                loose_fold(v)
                for part in query.split("^OR")
                for v in part[part.index("IN") + 2 :].split(",")
            }
            return loose_fold(u.email) in values or loose_fold(u.user_name) in values

        shown = [self._row(u) for u in self.visible if matches(u)]
        kept_back = sum(1 for u in self.hidden if matches(u))
        if kept_back and self.tail_raises:
            return self._raising(shown, kept_back, table)
        return Rows(shown, kept_back)

    def _raising(self, shown, kept_back, table):
        yield from shown
        raise ServiceNowRequestError(
            operation="query", table=table, detail="empty page", hidden_rows=kept_back
        )


NAMES = ["ann@contoso.com", "bob@contoso.com", "carl@contoso.com"]


def _resolve(conn, **config):
    directory = ServiceNowUserDirectory(conn)
    correlator = Correlator(CorrelatorConfig(**config))
    plan = correlator.plan(NAMES)
    fetched = directory.fetch(plan.request)
    return {r.input.raw: r for r in correlator.resolve(NAMES, directory)}, fetched


@pytest.mark.parametrize("tail_raises", [False, True])
@pytest.mark.parametrize("mode", ["keyed", "snapshot"])
def test_only_values_held_by_hidden_rows_are_unknown(mode, tail_raises):
    conn = AclConnection([VISIBLE], [HIDDEN], tail_raises=tail_raises)
    results, fetched = _resolve(conn, keyed_threshold=1 if mode == "snapshot" else 1000)
    assert fetched.mode == mode
    assert results["ann@contoso.com"].status is Status.MATCHED
    bob = results["bob@contoso.com"]
    assert (bob.status, bob.reason) == (Status.ERROR, ReasonCode.LOOKUP_ERROR)
    assert "read ACLs" in bob.message
    assert results["carl@contoso.com"].status is Status.UNMATCHED  # truly absent: halving shows it
    assert fetched.lookups_failed == 0
    assert (fetched.hidden_values, fetched.hidden_rows) == (1, 1)
    assert fetched.lookups_short >= 1


def test_a_visible_duplicate_of_a_hidden_account_is_never_taken_for_it():
    """The active account is hidden, an old one with the same email is visible: unknown."""
    old = user("U3", "bob_old", "bob@contoso.com", active=False)
    for threshold in (1, 1000):
        results, fetched = _resolve(AclConnection([VISIBLE, old], [HIDDEN]),
                                    keyed_threshold=threshold)  # fmt: skip
        assert results["bob@contoso.com"].status is Status.ERROR
        assert results["bob@contoso.com"].user is None
        assert fetched.hidden_values == 1


def test_nothing_hidden_leaves_absent_users_absent():
    conn = AclConnection([VISIBLE, HIDDEN], [])
    results, fetched = _resolve(conn)
    assert results["carl@contoso.com"].status is Status.UNMATCHED
    assert (fetched.lookups, fetched.lookups_short, fetched.hidden_rows) == (1, 0, 0)


def test_failed_chunks_are_counted():
    conn = AclConnection([VISIBLE, HIDDEN], [], fail_on=("ann",))
    results, fetched = _resolve(conn, chunk_size=1)
    assert (fetched.lookups, fetched.lookups_failed) == (3, 1)
    assert results["ann@contoso.com"].status is Status.ERROR
    assert results["bob@contoso.com"].status is Status.MATCHED
