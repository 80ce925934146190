"""Table API request and response shapes a real instance has (issue 12, item 3).

Sources (keys of /work/shared/reference/servicenow-semantics-and-throughput.md):
[T] the Table API page (``sysparm_fields``, ``sysparm_display_value``,
``sysparm_input_display_value``: dates in the user's time zone, reference names
resolved to sys_ids; XML supported); [TZ]/[SYSTZ] time zones (the user's
``time_zone``, else the system default); [PYSNC-F] ``user_password`` displays as
``********``; [KB0826932] Tomcat answers an over-long header "Request header is
too large" with 400.
"""

import http.client

import pytest

from cisync_lib.sandbox import SandboxConfig, ServiceNowOptions

from .conftest import make_session, unique

TABLE = "/api/now/table/"


def test_empty_sysparm_fields_returns_every_field(sb, api):
    """sysparm_fields= (empty) is the same as no sysparm_fields: every field [T]."""
    tag = unique("fields")
    sys_id = sb.store.insert("core_company", {"name": tag, "city": "Oslo"})
    url = sb.servicenow_url + TABLE + "core_company/" + sys_id
    full = api.get(url).json()["result"]
    empty = api.get(url, params={"sysparm_fields": ""}).json()["result"]
    assert empty == full
    assert empty["city"] == "Oslo"
    assert empty["name"] == tag
    listed = api.get(
        sb.servicenow_url + TABLE + "core_company",
        params={"sysparm_fields": "", "sysparm_query": f"name={tag}"},
    ).json()["result"]
    assert listed[0]["city"] == "Oslo"


def test_caller_given_sys_id_is_stored_exactly(sb, api):
    """A sys_id in the insert body is the record's sys_id, as given (case kept)."""
    given = "ABCDEF0123456789" + unique("")[-10:].upper().rjust(16, "0")
    response = api.post(sb.servicenow_url + TABLE + "core_company", json={"sys_id": given})
    assert response.status_code == 201
    assert response.json()["result"]["sys_id"] == given
    assert sb.store.get("core_company", given)["sys_id"] == given


def test_input_display_value_resolves_references_choices_and_dates(cisync_sandbox_factory):
    """sysparm_input_display_value=true: reference by display value, choice by label,
    date-time in the user's time zone (stored UTC) [T]."""
    sb = cisync_sandbox_factory(
        SandboxConfig(servicenow=ServiceNowOptions(time_zone="Europe/Oslo"))
    )
    owner = sb.store.insert(
        "sys_user", {"user_name": "ann", "first_name": "Ann", "last_name": "Lee"}
    )
    body = {
        "name": "Mailer",
        "owned_by": "Ann Lee",
        "application_type": "SaaS",
        "first_discovered": "2026-07-01 12:00:00",
    }
    with make_session(sb) as s:
        url = sb.servicenow_url + TABLE + "cmdb_ci_business_app"
        created = s.post(url, params={"sysparm_input_display_value": "true"}, json=body)
        assert created.status_code == 201
        row = sb.store.get("cmdb_ci_business_app", created.json()["result"]["sys_id"])
        assert row["owned_by"] == owner
        assert row["application_type"] == "saas"
        assert row["first_discovered"] == "2026-07-01 10:00:00"  # Oslo is UTC+2 in July
        # without the flag the values are stored as given
        raw = s.post(url, json={**body, "name": "Raw"}).json()["result"]
        assert raw["owned_by"]["value"] == "Ann Lee"
        assert raw["first_discovered"] == "2026-07-01 12:00:00"


def test_display_values_show_date_times_in_the_user_time_zone(cisync_sandbox_factory):
    """display_value=true|all show date-times in sys_user.time_zone, else the system zone."""
    sb = cisync_sandbox_factory(
        SandboxConfig(servicenow=ServiceNowOptions(time_zone="America/New_York"))
    )
    sys_id = sb.store.insert("cmdb_ci", {"name": "tz", "first_discovered": "2026-01-15 12:00:00"})
    with make_session(sb) as s:
        url = sb.servicenow_url + TABLE + "cmdb_ci/" + sys_id

        def shown(mode):
            params = {"sysparm_display_value": mode, "sysparm_fields": "first_discovered"}
            return s.get(url, params=params).json()["result"]["first_discovered"]

        assert shown("false") == "2026-01-15 12:00:00"
        assert shown("true") == "2026-01-15 07:00:00"  # the system zone, UTC-5 in January
        sb.store.insert(
            "sys_user", {"user_name": sb.servicenow_username, "time_zone": "Asia/Tokyo"}
        )
        assert shown("true") == "2026-01-15 21:00:00"  # the user's own zone, UTC+9
        assert shown("all") == {
            "display_value": "2026-01-15 21:00:00",
            "value": "2026-01-15 12:00:00",
        }


def test_user_password_reads_back_masked(sb, api):
    """user_password is never shown: the value and display value read ******** [PYSNC-F]."""
    name = unique("pw")
    sys_id = sb.store.insert("sys_user", {"user_name": name, "user_password": "s3cret!"})
    url = sb.servicenow_url + TABLE + "sys_user/" + sys_id
    for mode in ("false", "true"):
        params = {"sysparm_display_value": mode, "sysparm_fields": "user_password,user_name"}
        assert api.get(url, params=params).json()["result"]["user_password"] == "********"
    both = api.get(url, params={"sysparm_display_value": "all"}).json()["result"]
    assert both["user_password"] == {"display_value": "********", "value": "********"}
    assert "s3cret" not in api.get(url).text


@pytest.mark.parametrize("accept", ["application/xml", "text/html", "application/json;q=0"])
def test_accept_other_than_json_is_406(sb, api, accept):
    """The sandbox serves JSON only and says so with 406 [T: XML is supported on an instance]."""
    response = api.get(sb.servicenow_url + TABLE + "cmdb_rel_type", headers={"Accept": accept})
    assert response.status_code == 406
    assert response.json()["error"]["message"] == "The sandbox serves JSON only"


@pytest.mark.parametrize(
    "accept", ["application/json", "*/*", "application/xml, application/json;q=0.5", ""]
)
def test_accept_admitting_json_is_served(sb, api, accept):
    """Any Accept that admits JSON (or none) gets JSON."""
    response = api.get(
        sb.servicenow_url + TABLE + "cmdb_rel_type",
        headers={"Accept": accept},
        params={"sysparm_limit": "1"},
    )
    assert response.status_code == 200


def test_over_long_request_is_tomcats_html_400(sb, api):
    """A request line plus headers over the limit (16 KiB by default) is Tomcat's HTML 400."""
    url = sb.servicenow_url + TABLE + "core_company"
    ok = api.get(url, params={"sysparm_query": "name=" + "x" * 8000, "sysparm_limit": "1"})
    assert ok.status_code == 200
    long = api.get(url, params={"sysparm_query": "name=" + "x" * 17000})
    assert long.status_code == 400
    assert long.headers["Content-Type"].startswith("text/html")
    assert "Request header is too large" in long.text
    headers = {"X-Padding": "p" * 17000}
    assert api.get(url, headers=headers, params={"sysparm_limit": "1"}).status_code == 400


def test_long_queries_never_make_headers_python_cannot_read(cisync_sandbox_factory):
    """With the limit raised, a 35 KB query is served, and its Link header stays readable."""
    sb = cisync_sandbox_factory(
        SandboxConfig(servicenow=ServiceNowOptions(max_header_bytes=64 * 1024))
    )
    query = "^OR".join(f"name=company-{i:05d}" for i in range(2000))  # about 35 KB
    assert len(query) > 35000
    with make_session(sb) as s:
        response = s.get(
            sb.servicenow_url + TABLE + "core_company",
            params={"sysparm_query": query, "sysparm_limit": "1"},
        )
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "0"
    assert all(len(v) < http.client._MAXLINE for v in response.headers.values())
