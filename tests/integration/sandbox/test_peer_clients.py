"""Behaviours other clients (pysnow 0.7, aiosnow 0.6, pysnc's own suite) exposed, checked over HTTPS.

The requests are written by hand from what those clients send (their query
builders' output, their paging parameters); expected rows come from the store
read directly, expected refusals from the never-widen rule (docs/sandbox-reference.md).
"""

import pytest

from cisync_lib.sandbox import Sandbox, SandboxConfig

from .conftest import make_client, make_session


@pytest.fixture(scope="module")
def demo():
    with Sandbox(SandboxConfig(services=("servicenow",), demo_data=True)) as sb:
        yield sb


@pytest.fixture
def get(demo):
    session = make_session(demo)

    def call(table, **params):
        return session.get(
            f"{demo.servicenow_url}/api/now/table/{table}", params=params, timeout=30
        )

    yield call
    session.close()


def test_offset_paging_without_order_sees_every_row_once(demo, get):
    """pysnow's get(limit=, offset=) and aiosnow's stream(page_size=) page by offset, unordered."""
    ids = []
    for offset in range(0, 70, 7):
        response = get(
            "incident", sysparm_limit="7", sysparm_offset=str(offset), sysparm_fields="sys_id"
        )
        ids += [r["sys_id"] for r in response.json()["result"]]
    assert len(ids) == len(set(ids)) == demo.store.count("incident") == 30


def test_unknown_names_in_sysparm_fields_are_left_out(demo, get):
    """aiosnow's declared IncidentModel asks for fields a smaller dictionary does not have."""
    response = get(
        "incident",
        sysparm_query="number=INC0010001",
        sysparm_fields="sys_id,number,made_sla,caused_by,sys_domain",
        sysparm_display_value="all",
    )
    assert response.status_code == 200
    (row,) = response.json()["result"]
    assert set(row) == {"sys_id", "number"}
    assert row["number"] == {"display_value": "INC0010001", "value": "INC0010001"}


@pytest.mark.parametrize(
    "query",
    [
        # aiosnow is_empty() / is_populated() send the value None after the operator
        "categoryISEMPTYNone",
        "categoryISNOTEMPTYNone",
        # aiosnow DateTime.on() / not_on() with a plain date-time
        "opened_atON2024-10-01 00:00:00",
        "opened_atNOTON2024-10-01 00:00:00",
        # aiosnow field-to-field comparisons
        "priorityGT_FIELDimpact",
        "priorityLE_OR_EQUALS_FIELDimpact",
        # aiosnow DateTime relative operators
        "opened_atRELATIVEGE@hour@ago@3",
        # pysnow's QueryBuilder.between() with date-times: one-argument dateGenerate
        'opened_atBETWEENjavascript:gs.dateGenerate("2024-10-01 00:00:00")'
        '@javascript:gs.dateGenerate("2024-11-30 00:00:00")',
        # pysnc's join and related-list queries
        "JOINincident.caller_id=sys_user.sys_id!active=true^priority=1",
        "RLQUERYtask_sla.task,>0^ENDRLQUERY",
    ],
)
def test_operators_peers_send_that_the_sandbox_does_not_evaluate_are_refused(get, query):
    """Never a widened answer: a 400 that says the sandbox does not support the query."""
    response = get("incident", sysparm_query=query, sysparm_fields="sys_id")
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "does not support" in message
    assert query.split("^")[0] in message  # the part named as the client wrote it


def test_dot_walked_fields_with_display_values(demo, get):
    """pysnc's dot-walk test reads department.dept_head with display values too (``all``)."""
    admin = "6816f79cc0a8016401c5a33be04be441"
    response = get(
        "sys_user",
        sysparm_query=f"sys_id={admin}",
        sysparm_fields="department,department.dept_head",
        sysparm_display_value="all",
        sysparm_exclude_reference_link="true",
    )
    (row,) = response.json()["result"]
    department = demo.store.get("cmn_department", row["department"]["value"])
    head = demo.store.get("sys_user", department["dept_head"])
    assert row["department"]["display_value"] == department["name"] == "Finance"
    assert row["department.dept_head"] == {"display_value": head["name"], "value": head["sys_id"]}


def test_pysnc_related_list_query(demo):
    """pysnc's add_rl_query: groups holding a role whose name contains "admin" (demo data)."""
    client = make_client(demo)
    gr = client.GlideRecord("sys_user_group")
    gr.add_rl_query("sys_group_has_role", "group", ">0", True).add_query(
        "role.name", "LIKE", "admin"
    )
    gr.query()
    found = sorted(r.get_value("name") for r in gr)
    client.session.close()
    # hand-written from the demo data's groups and their roles
    assert found == [
        "Catalog Managers",
        "Knowledge Managers",
        "Problem Solving",
        "User Administration",
    ]


def test_pysnc_join_query(demo):
    """pysnc's add_join_query: users who manage an active group (demo data)."""
    client = make_client(demo)
    gr = client.GlideRecord("sys_user")
    gr.add_join_query("sys_user_group", join_table_field="manager").add_query("active", "true")
    gr.query()
    found = sorted(r.get_value("user_name") for r in gr)
    client.session.close()
    # hand-written from the demo data's group managers
    assert found == [
        "abel.tuter", "beth.anglin", "charlie.whitherspoon", "christen.mitchell", "david.loo",
        "fred.luddy", "howard.johnson", "problem.admin", "ron.kettering",
    ]  # fmt: skip
