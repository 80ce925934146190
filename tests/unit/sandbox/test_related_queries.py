"""Related-list queries (``RLQUERY...^ENDRLQUERY``) and joins (``JOIN...!...``), as pysnc writes them.

Semantics from ServiceNow's encoded-query documentation of related-list
conditions: a record matches when the number of related rows (rows of the
related table whose reference field points at it and that match the
conditions between ``RLQUERY`` and ``ENDRLQUERY``) compares with the given
count. A ``JOIN<table>.<field>=<joined>.<field>!<condition>`` keeps the records
for which some joined row has the equal field and matches the condition.
Expected rows are written by hand from the data each test inserts.
"""

import pytest

from cisync_lib import SandboxQueryError
from cisync_lib.sandbox.servicenow import ServiceNowStore
from cisync_lib.sandbox.servicenow._demo_tables import demo_tables


@pytest.fixture
def store():
    store = ServiceNowStore()
    store.add_tables(demo_tables())
    roles = {n: store.insert("sys_user_role", {"name": n}) for n in ("admin", "itil", "user_admin")}
    groups = {n: store.insert("sys_user_group", {"name": n}) for n in ("Ops", "Desk", "Empty")}
    for group, role in (
        ("Ops", "admin"),
        ("Ops", "itil"),
        ("Desk", "itil"),
        ("Desk", "user_admin"),
    ):
        store.insert("sys_group_has_role", {"group": groups[group], "role": roles[role]})
    users = {n: store.insert("sys_user", {"user_name": n}) for n in ("ann", "bob", "cy")}
    for user, group in (("ann", "Ops"), ("ann", "Desk"), ("bob", "Desk")):
        store.insert("sys_user_grmember", {"user": users[user], "group": groups[group]})
    yield store
    store.close()


def names(store, table, query):
    return sorted(r["name"] or r.get("user_name", "") for r in store.query(table, query))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # pysnc's test_rl_query_manual form: groups with a role whose name contains "admin"
        ("RLQUERYsys_group_has_role.group,>0,m2m^role.nameLIKEadmin^ENDRLQUERY", ["Desk", "Ops"]),
        ("RLQUERYsys_group_has_role.group,>0^role.name=itil^ENDRLQUERY", ["Desk", "Ops"]),
        ("RLQUERYsys_group_has_role.group,=0^ENDRLQUERY", ["Empty"]),
        ("RLQUERYsys_group_has_role.group,>=2^ENDRLQUERY", ["Desk", "Ops"]),
        ("RLQUERYsys_group_has_role.group,<1^role.name=admin^ENDRLQUERY", ["Desk", "Empty"]),
        ("RLQUERYsys_group_has_role.group,<2^role.name=admin^ENDRLQUERY", ["Desk", "Empty", "Ops"]),
        ("RLQUERYsys_user_grmember.group,>1^ENDRLQUERY", ["Desk"]),
        # combined with ordinary conditions and OR inside the related conditions
        ("nameSTARTSWITHO^RLQUERYsys_user_grmember.group,>0^ENDRLQUERY", ["Ops"]),
        ("RLQUERYsys_group_has_role.group,>0^role.name=admin^ORrole.name=user_admin^ENDRLQUERY",
         ["Desk", "Ops"]),
    ],
)  # fmt: skip
def test_related_counts(store, query, expected):
    assert names(store, "sys_user_group", query) == expected


def test_related_query_on_users(store):
    query = "RLQUERYsys_user_grmember.user,>=2^ENDRLQUERY^NQuser_name=cy"
    assert sorted(r["user_name"] for r in store.query("sys_user", query)) == ["ann", "cy"]


@pytest.mark.parametrize(
    "query",
    [
        "RLQUERYsys_group_has_role.group,>0^role.name=admin",  # no ENDRLQUERY
        "RLQUERYsys_group_has_role.group,>0^no_such_field=1^ENDRLQUERY",  # would widen the count
        "RLQUERYsys_group_has_role.role,>0^ENDRLQUERY",  # refers to sys_user_role
        "RLQUERYno_such_table.group,>0^ENDRLQUERY",
        "RLQUERYsys_group_has_role.group>0^ENDRLQUERY",  # malformed header
        "RLQUERYsys_group_has_role.group,>0^RLQUERYsys_user_grmember.group,>0^ENDRLQUERY^ENDRLQUERY",
    ],
)
def test_unusable_related_queries_are_refused(store, query):
    with pytest.raises(SandboxQueryError):
        store.query("sys_user_group", query)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # pysnc's add_join_query: users who hold a role, with or without a condition
        ("JOINsys_user.sys_id=sys_user_grmember.user!", ["ann", "bob"]),
        ("JOINsys_user.sys_id=sys_user_grmember.user!group.name=Ops", ["ann"]),
        ("user_name!=ann^JOINsys_user.sys_id=sys_user_grmember.user!^ORDERBYuser_name", ["bob"]),
        ("JOINsys_user.sys_id=sys_user_grmember.user!group.name=Empty", []),
    ],
)
def test_joins(store, query, expected):
    assert sorted(r["user_name"] for r in store.query("sys_user", query)) == expected


@pytest.mark.parametrize(
    "query",
    [
        # what follows a JOIN may be its own condition or the main query's: refused
        "JOINsys_user.sys_id=sys_user_grmember.user!group.name=Ops^user_name=bob",
        "JOINsys_user.sys_id!group.name=Ops",  # malformed
        "JOINsys_user_group.sys_id=sys_user_grmember.group!",  # not the queried table
        "JOINsys_user.sys_id=sys_user_grmember.no_such_field!",
        "JOINsys_user.sys_id=sys_user_grmember.user!no_such_field=1",
    ],
)
def test_unusable_joins_are_refused(store, query):
    with pytest.raises(SandboxQueryError):
        store.query("sys_user", query)
