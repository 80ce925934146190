"""Demo data (``SandboxConfig(demo_data=True)``): what pysnc's own suite expects of a developer instance.

Expected values are written by hand from a personal developer instance (the
sys_ids pysnc's test suite hard-codes) and from the demo data's documented
contents; counts are checked against the store read directly.
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pysnc
import pytest
import requests
from pysnc.exceptions import AuthenticationException

from cisync_lib.sandbox import Sandbox, SandboxConfig

from .conftest import make_client, make_session, unique

CISYNC = str(Path(sys.executable).with_name("cisync"))
ADMIN = "6816f79cc0a8016401c5a33be04be441"  # the admin user of every developer instance
FINANCE = "a581ab703710200044e0bfc8bcbe5de8"
NATASHA = "46c5bf6ca9fe1981010713e3ac7d3384"
PROBLEM_ADMIN = "26fbff173b331300ad3cc9bb34efc4bd"
ADMIN_ROLE = "2831a114c611228501d4ea6c309d626d"


@pytest.fixture(scope="module")
def demo():
    with Sandbox(SandboxConfig(services=("servicenow",), demo_data=True)) as sb:
        yield sb


@pytest.fixture
def admin(demo):
    """A pysnc client logged in as the developer instance's ``admin``."""
    info = demo.connection_info()
    client = make_client(demo, info["servicenow_admin_username"], info["servicenow_admin_password"])
    yield client
    client.session.close()


def test_admin_login_and_record(demo, admin):
    """pysnc's test_connect / test_get_field_access: admin's well-known sys_id and fields."""
    gr = admin.GlideRecord("sys_user")
    assert gr.get(ADMIN)
    assert gr.get_value("user_name") == "admin"
    assert gr.get_value("name") == "System Administrator"
    assert gr.get_value("email") == "admin@example.com"
    assert gr.get_value("active") == "true"
    assert demo.connection_info()["servicenow_admin_username"] == "admin"


def test_admin_wrong_password_is_refused(demo):
    client = make_client(demo, "admin", "not the password")
    with pytest.raises(AuthenticationException):
        client.GlideRecord("sys_user").get(ADMIN)
    client.session.close()


def test_department_is_a_reference_to_walk(demo):
    """pysnc's test_dotwalk_with_element: department -> cmn_department -> dept_head."""
    session = make_session(demo)
    fields = "sys_id,department,department.name,department.dept_head,department.dept_head.email"
    response = session.get(
        f"{demo.servicenow_url}/api/now/table/sys_user/{ADMIN}",
        params={"sysparm_fields": fields, "sysparm_exclude_reference_link": "true"},
        timeout=30,
    )
    session.close()
    assert response.status_code == 200
    assert response.json()["result"] == {
        "sys_id": ADMIN,
        "department": FINANCE,
        "department.name": "Finance",
        "department.dept_head": NATASHA,
        "department.dept_head.email": "natasha.ingram@example.com",
    }


def test_problem_insert_defaults_to_the_calling_user(demo, admin):
    """pysnc's test_crud: opened_by is the caller (gs.getUserID()), number PRB..., active."""
    gr = admin.GlideRecord("problem")
    gr.initialize()
    gr.short_description = unique("prb")
    gr.bunk_field = "ignored, as an instance ignores unknown fields"
    sys_id = gr.insert()
    row = demo.store.get("problem", str(sys_id))
    assert row["opened_by"] == ADMIN
    assert row["number"].startswith("PRB")
    assert row["active"] == "true"
    assert row["opened_at"] != ""
    assert "bunk_field" not in row
    assert gr.get_display_value("opened_by") == "System Administrator"


def test_problem_insert_by_the_integration_user(demo, client_of_demo):
    gr = client_of_demo.GlideRecord("problem")
    gr.initialize()
    gr.short_description = unique("prb")
    sys_id = str(gr.insert())
    (me,) = demo.store.query("sys_user", f"user_name={demo.servicenow_username}")
    assert demo.store.get("problem", sys_id)["opened_by"] == me["sys_id"]


@pytest.fixture
def client_of_demo(demo):
    client = make_client(demo)
    yield client
    client.session.close()


def test_other_well_known_records(demo):
    assert demo.store.get("sys_user", PROBLEM_ADMIN)["user_name"] == "problem.admin"
    assert demo.store.get("sys_user_role", ADMIN_ROLE)["name"] == "admin"
    assert demo.store.get("cmn_department", FINANCE)["dept_head"] == NATASHA
    # a dozen admins, as on a developer instance (pysnc's JOIN test expects 11..24)
    assert demo.store.count("sys_user_has_role", f"role={ADMIN_ROLE}") == 12


def test_syslog_pages_through_every_row(demo, client_of_demo):
    """pysnc's test_batching reads more than 600 syslog rows, 100 per page."""
    gr = client_of_demo.GlideRecord("syslog", batch_size=100)
    gr.fields = "sys_id"
    gr.query()
    seen = [r.get_value("sys_id") for r in gr]
    assert len(seen) == len(set(seen)) == demo.store.count("syslog") == 650


def test_sys_metadata_holds_its_child_classes(demo):
    """sys_metadata is the base class: a query on it sees business rules and script includes."""
    session = make_session(demo)
    response = session.get(
        f"{demo.servicenow_url}/api/now/table/sys_metadata",
        params={"sysparm_limit": "1", "sysparm_fields": "sys_id"},
        timeout=30,
    )
    session.close()
    expected = demo.store.count("sys_script") + demo.store.count("sys_script_include")
    assert int(response.headers["X-Total-Count"]) == expected == 560


def test_sys_db_object_lists_developer_instance_tables(demo, client_of_demo):
    """pysnc's test_or_query: alm_asset and bsm_chart are in sys_db_object."""
    gr = client_of_demo.GlideRecord("sys_db_object")
    gr.add_query("name", "alm_asset").add_or_condition("name", "bsm_chart")
    gr.query()
    assert sorted(r.get_value("name") for r in gr) == ["alm_asset", "bsm_chart"]


def test_state_folder_keeps_demo_data_once(tmp_path):
    config = SandboxConfig(services=("servicenow",), demo_data=True, state_dir=tmp_path)
    with Sandbox(config) as sb:
        users = sb.store.count("sys_user")
        sb.store.delete("problem", sb.store.query("problem")[0]["sys_id"])
        sb.store.update("sys_user", ADMIN, {"title": "Changed"})
        problems = sb.store.count("problem")
    with Sandbox(config) as sb:
        assert sb.store.count("sys_user") == users
        assert sb.store.count("problem") == problems + 1  # a missing demo record comes back
        assert sb.store.get("sys_user", ADMIN)["title"] == "Changed"  # changes are kept


def test_without_demo_data_there_is_no_admin_nor_problem(sb):
    assert "servicenow_admin_username" not in sb.connection_info()
    assert sb.store.get("sys_user", ADMIN) is None
    client = make_client(sb)
    with pytest.raises(pysnc.exceptions.RequestException, match="Invalid table"):
        client.GlideRecord("problem").get("x" * 32)
    client.session.close()


def test_cli_serve_demo_data():
    """`cisync sandbox serve --demo-data --json`: the admin login reads its own well-known record."""
    env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    process = subprocess.Popen(
        [CISYNC, "sandbox", "serve", "--json", "--demo-data"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        info = json.loads(process.stdout.readline())
        with requests.Session() as session:
            session.trust_env = False
            session.verify = info["ca_file"]
            session.auth = (info["servicenow_admin_username"], info["servicenow_admin_password"])
            response = session.get(f"{info['servicenow_url']}/api/now/table/sys_user/{ADMIN}")
        assert response.json()["result"]["user_name"] == "admin"
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        process.stdout.close()
        process.stderr.close()
