"""The Table API over HTTPS with plain requests: status codes, headers, bodies, parameters."""

import pytest

from cisync_lib.sandbox import SandboxConfig, ServiceNowOptions

from .conftest import make_session, unique

TABLE = "/api/now/table/"


def test_empty_list_is_200_with_a_total_count(sb, api):
    """An empty page is 200 {"result": []} and still has X-Total-Count (and a Link)."""
    response = api.get(
        sb.servicenow_url + TABLE + "sys_user", params={"sysparm_query": "user_name=" + unique()}
    )
    assert response.status_code == 200
    assert response.json() == {"result": []}
    assert response.headers["X-Total-Count"] == "0"
    assert 'rel="first"' in response.headers["Link"]
    assert response.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("prefix", ["/api/now/table/", "/api/now/v1/table/", "/api/now/v2/table/"])
def test_versioned_paths(sb, api, prefix):
    """The versionless, v1 and v2 paths serve the same table."""
    response = api.get(
        sb.servicenow_url + prefix + "cmdb_rel_type", params={"sysparm_fields": "name"}
    )
    assert response.headers["X-Total-Count"] == "7"
    assert {"name": "Uses::Used by"} in response.json()["result"]


def test_paging_headers(sb, api):
    """X-Total-Count counts every match; Link has first/prev/next/last; suppress drops Link."""
    url = sb.servicenow_url + TABLE + "cmdb_rel_type"
    params = {"sysparm_limit": "2", "sysparm_offset": "2", "sysparm_fields": "sys_id"}
    response = api.get(url, params=params)
    assert len(response.json()["result"]) == 2
    assert response.headers["X-Total-Count"] == "7"
    links = response.headers["Link"]
    for rel, offset in (("first", 0), ("prev", 0), ("next", 4), ("last", 6)):
        assert f'sysparm_offset={offset}>;rel="{rel}"' in links
    quiet = api.get(url, params={**params, "sysparm_suppress_pagination_header": "true"})
    assert "Link" not in quiet.headers
    assert quiet.headers["X-Total-Count"] == "7"
    uncounted = api.get(url, params={**params, "sysparm_no_count": "true"})
    assert "X-Total-Count" not in uncounted.headers


def test_default_limit_and_offset(sb, api):
    """Without sysparm_limit up to 10000 rows come back; a bad limit falls back to it."""
    tag = unique("lim")
    for i in range(3):
        sb.store.insert("core_company", {"name": f"{tag}-{i}"})
    url = sb.servicenow_url + TABLE + "core_company"
    query = {"sysparm_query": f"nameSTARTSWITH{tag}^ORDERBYname", "sysparm_fields": "name"}
    assert len(api.get(url, params=query).json()["result"]) == 3
    assert len(api.get(url, params={**query, "sysparm_limit": "x"}).json()["result"]) == 3
    page = api.get(url, params={**query, "sysparm_offset": "2"}).json()["result"]
    assert page == [{"name": f"{tag}-2"}]


def test_get_record_and_json_404(sb, api):
    """GET by sys_id ignores sysparm_query/limit; a missing one is the live instance's JSON 404."""
    sys_id = sb.store.insert("core_company", {"name": unique("co")})
    url = sb.servicenow_url + TABLE + "core_company/"
    found = api.get(
        url + sys_id, params={"sysparm_query": "name=nothing^ORDERBYsys_id", "sysparm_limit": "1"}
    )
    assert found.status_code == 200
    assert found.json()["result"]["sys_id"] == sys_id
    missing = api.get(url + "0" * 32)
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {
            "message": "No Record found",
            "detail": "Record doesn't exist or ACL restricts the record retrieval",
        },
        "status": "failure",
    }


def test_post_put_patch_delete(sb, api):
    """POST 201 + Location, PUT/PATCH 200 with the full row, DELETE 204 with no body."""
    url = sb.servicenow_url + TABLE + "sys_user"
    created = api.post(url, json={"user_name": unique("w"), "title": None, "active": False,
                                  "employee_number": 42, "no_such_field": "x"})  # fmt: skip
    assert created.status_code == 201
    row = created.json()["result"]
    assert created.headers["Location"] == f"{url}/{row['sys_id']}"
    assert (row["title"], row["active"], row["employee_number"]) == ("", "false", "42")
    assert "no_such_field" not in row
    assert len(row["sys_id"]) == 32
    assert row["sys_class_name"] == "sys_user"
    for method in ("put", "patch"):
        changed = getattr(api, method)(f"{url}/{row['sys_id']}", json={"title": method})
        assert changed.status_code == 200
        assert changed.json()["result"]["title"] == method
    nothing = api.patch(f"{url}/{row['sys_id']}", json={})
    assert nothing.status_code == 200
    assert nothing.json()["result"]["sys_mod_count"] == "2"
    deleted = api.delete(f"{url}/{row['sys_id']}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    for method in ("patch", "delete"):
        assert getattr(api, method)(f"{url}/{row['sys_id']}", json={}).status_code == 404


def test_insert_with_a_given_sys_id_never_overwrites(sb, api):
    """A client-chosen sys_id is used; inserting it again is refused."""
    url = sb.servicenow_url + TABLE + "core_company"
    sys_id = "ab" * 16
    first = api.post(url, json={"sys_id": sys_id, "name": unique("fixed")})
    assert first.json()["result"]["sys_id"] == sys_id
    again = api.post(url, json={"sys_id": sys_id, "name": "other"})
    assert again.status_code == 403
    assert sb.store.get("core_company", sys_id)["name"] != "other"


@pytest.mark.parametrize(
    ("body", "detail"),
    # no body at all is a record of defaults, as on an instance (test_attachment.py)
    [(b"{not json", "not valid JSON"), (b"[1, 2]", "JSON object")],
)
def test_bad_bodies_get_400_in_servicenow_shape(sb, api, body, detail):
    """A body that is not a JSON object: 400 with ServiceNow's error shape."""
    response = api.post(sb.servicenow_url + TABLE + "core_company", data=body,
                        headers={"Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 400
    payload = response.json()
    assert payload["status"] == "failure"
    assert payload["error"]["message"] == "Exception while reading request"
    assert detail in payload["error"]["detail"]


def test_display_value_modes_and_links(sb, api):
    """false/true/all and exclude_reference_link shape reference, choice and plain fields."""
    owner = sb.store.insert(
        "sys_user", {"user_name": unique("o"), "first_name": "Ann", "last_name": "Owner"}
    )
    app = sb.store.insert("cmdb_ci_business_app", {"name": unique("app"), "owned_by": owner,
                                                   "install_type": "cloud"})  # fmt: skip
    url = f"{sb.servicenow_url}{TABLE}cmdb_ci_business_app/{app}"
    link = f"{sb.servicenow_url}/api/now/table/sys_user/{owner}"

    def get(**params):
        params["sysparm_fields"] = "owned_by,install_type,managed_by"
        return api.get(url, params=params).json()["result"]

    assert get() == {
        "owned_by": {"link": link, "value": owner},
        "install_type": "cloud",
        "managed_by": "",
    }
    assert get(sysparm_exclude_reference_link="true") == {
        "owned_by": owner,
        "install_type": "cloud",
        "managed_by": "",
    }
    assert get(sysparm_display_value="true") == {
        "owned_by": {"display_value": "Ann Owner", "link": link},
        "install_type": "Cloud",
        "managed_by": "",
    }
    assert get(sysparm_display_value="all", sysparm_exclude_reference_link="true") == {
        "owned_by": {"display_value": "Ann Owner", "value": owner},
        "install_type": {"display_value": "Cloud", "value": "cloud"},
        "managed_by": {"display_value": "", "value": ""},
    }


def test_fields_with_unknown_and_dot_walked_names(sb, api):
    """Unknown field names are dropped; dot-walked names come back as dotted keys."""
    boss = sb.store.insert("sys_user", {"user_name": unique("b"), "email": "boss@x.test"})
    worker = sb.store.insert("sys_user", {"user_name": unique("w"), "manager": boss})
    url = f"{sb.servicenow_url}{TABLE}sys_user/{worker}"
    fields = "manager.email,bogus,manager.bogus,user_name.email,manager.manager.email"
    result = api.get(url, params={"sysparm_fields": fields}).json()["result"]
    assert result == {"manager.email": "boss@x.test", "manager.manager.email": ""}


def test_unknown_table_is_400_invalid_table(sb, api):
    """The default answer for an unknown table is 400 "Invalid table", on every method."""
    url = sb.servicenow_url + TABLE + "u_nope"
    for response in (
        api.get(url),
        api.post(url, json={"name": "x"}),
        api.get(url + "/" + "0" * 32),
    ):
        assert response.status_code == 400
        assert response.json()["error"]["message"] == "Invalid table u_nope"


def test_unknown_table_can_be_created_on_first_use(cisync_sandbox_factory):
    """With unknown_tables="create" a table and its columns appear on first write."""
    sb = cisync_sandbox_factory(
        SandboxConfig(servicenow=ServiceNowOptions(unknown_tables="create"))
    )
    with make_session(sb) as s:
        url = sb.servicenow_url + TABLE + "u_custom"
        assert s.get(url).json() == {"result": []}
        created = s.post(url, json={"name": "one", "u_color": "red"})
        assert created.status_code == 201
    assert sb.store.query("u_custom", "u_color=red")[0]["name"] == "one"
    assert sb.store.count("sys_dictionary", "name=u_custom^element=u_color") == 1


def test_unsupported_method_and_unknown_resource(sb, api):
    """405 for a method a resource does not take; 400 for a path that is no resource."""
    assert api.delete(sb.servicenow_url + TABLE + "sys_user").status_code == 405
    unknown = api.get(sb.servicenow_url + "/api/now/nothing/here")
    assert unknown.status_code == 400
    assert unknown.json()["error"]["message"] == "Requested URI does not represent any resource"


def test_invalid_query_parts_are_ignored_by_default(sb, api):
    """Like ServiceNow, an unknown field in a condition is dropped (the query widens)."""
    tag = unique("wide")
    sb.store.insert("core_company", {"name": tag})
    url = sb.servicenow_url + TABLE + "core_company"
    narrow = api.get(url, params={"sysparm_query": f"name={tag}"})
    widened = api.get(url, params={"sysparm_query": f"name={tag}^ORu_bogus=1^NQu_bogus=2"})
    assert narrow.headers["X-Total-Count"] == "1"
    assert widened.headers["X-Total-Count"] == "1"
    everything = api.get(url, params={"sysparm_query": "u_bogus=1", "sysparm_limit": "1"})
    assert int(everything.headers["X-Total-Count"]) >= 1


@pytest.mark.parametrize(
    "query",
    [
        "JOINcore_company.sys_id=cmdb_ci.vendor!name=x^name=y",
        "RLQUERYcmdb_ci.vendor,>=1^nameDATEPARTmonday^ENDRLQUERY",
        "nameDATEPARTmonday",
        "sys_created_onRELATIVEGT@hour@ago@1",
        "sys_created_on<javascript:gs.getUserID()",
        "name=x^ORnameVALCHANGES",
    ],
)
def test_unsupported_query_parts_are_refused(sb, api, query):
    """Valid syntax the sandbox does not evaluate is a 400 that says so, never a wider answer."""
    response = api.get(sb.servicenow_url + TABLE + "core_company", params={"sysparm_query": query})
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("The sandbox does not support this query")


def test_unsupported_query_parts_are_refused_inside_a_batch(sb, api):
    """A Batch API list item gets the same 400."""
    import base64
    import json

    payload = {
        "batch_request_id": "1",
        "rest_requests": [
            {
                "id": "a",
                "method": "GET",
                "url": TABLE + "core_company?sysparm_query=JOINx.y%3Dz.w!a%3Db",
                "headers": [],
            }
        ],
    }
    response = api.post(sb.servicenow_url + "/api/now/v1/batch", json=payload)
    item = response.json()["serviced_requests"][0]
    assert item["status_code"] == 400
    assert "does not support" in json.loads(base64.b64decode(item["body"]))["error"]["message"]


def test_strict_queries_answer_400(cisync_sandbox_factory):
    """With strict_queries an invalid part gets 400 instead of being ignored."""
    sb = cisync_sandbox_factory(SandboxConfig(servicenow=ServiceNowOptions(strict_queries=True)))
    with make_session(sb) as s:
        url = sb.servicenow_url + TABLE + "core_company"
        response = s.get(url, params={"sysparm_query": "u_bogus=1"})
        assert response.status_code == 400
        assert "u_bogus=1" in response.json()["error"]["detail"]
        assert s.get(url, params={"sysparm_query": "name=x^ORDERBYname"}).status_code == 200


def test_name_value_shorthand_filters(sb, api):
    """Plain name=value URL parameters filter a list (sysparm_* are not fields)."""
    tag = unique("short")
    sb.store.insert("core_company", {"name": tag, "city": "Oslo"})
    sb.store.insert("core_company", {"name": tag, "city": "Rome"})
    url = sb.servicenow_url + TABLE + "core_company"
    response = api.get(url, params={"name": tag, "city": "rome", "sysparm_fields": "city"})
    assert response.json()["result"] == [{"city": "Rome"}]


def test_case_insensitive_by_default_and_configurable(sb, api, cisync_sandbox_factory):
    """Strings compare case-insensitively unless case_sensitive is set."""
    tag = unique("Case")
    sb.store.insert("core_company", {"name": tag})
    url = sb.servicenow_url + TABLE + "core_company"
    assert (
        api.get(url, params={"sysparm_query": f"name={tag.upper()}"}).headers["X-Total-Count"]
        == "1"
    )
    strict = cisync_sandbox_factory(
        SandboxConfig(servicenow=ServiceNowOptions(case_sensitive=True))
    )
    strict.store.insert("core_company", {"name": tag})
    assert strict.store.count("core_company", f"name={tag.upper()}") == 0
    assert strict.store.count("core_company", f"name={tag}") == 1
