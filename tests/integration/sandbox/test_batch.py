"""The Batch API with raw requests: wire format, ordering, limits and unserviced items."""

import base64
import json

from cisync_lib.sandbox import SandboxConfig, ServiceNowOptions

from .conftest import make_session, unique

BATCH = "/api/now/v1/batch"


def _item(item_id, method, url, body=None):
    item = {"id": item_id, "method": method, "url": url, "headers": []}
    if body is not None:
        item["body"] = base64.b64encode(json.dumps(body).encode()).decode()
        item["headers"] = [{"name": "Content-Type", "value": "application/json"}]
    return item


def _body(served):
    return json.loads(base64.b64decode(served["body"])) if served["body"] else None


def test_batch_wire_format(sb, api):
    """Items run in order through the Table API; ids and statuses come back as pysnc expects."""
    name = unique("batch")
    existing = sb.store.insert("core_company", {"name": name + "-old"})
    items = [
        _item(
            "a", "POST", "/api/now/table/core_company?sysparm_display_value=false", {"name": name}
        ),
        _item(
            "b",
            "GET",
            f"/api/now/table/core_company?sysparm_query=nameSTARTSWITH{name}&sysparm_fields=name",
        ),
        _item("c", "PATCH", f"/api/now/table/core_company/{existing}", {"city": "Paris"}),
        _item("d", "DELETE", f"/api/now/table/core_company/{existing}"),
        _item("e", "GET", f"/api/now/table/core_company/{existing}"),
    ]
    mark = sb.request_log.mark()
    response = api.post(
        sb.servicenow_url + BATCH, json={"batch_request_id": 7, "rest_requests": items}
    )
    assert response.status_code == 200
    payload = response.json()
    assert payload["batch_request_id"] == "7"
    assert payload["unserviced_requests"] == []
    served = payload["serviced_requests"]
    assert [s["id"] for s in served] == ["a", "b", "c", "d", "e"]
    assert [s["status_code"] for s in served] == [201, 200, 200, 204, 404]
    assert _body(served[0])["result"]["name"] == name
    headers = {h["name"]: h["value"] for h in served[1]["headers"]}
    assert headers["X-Total-Count"] == "2"
    assert sorted(r["name"] for r in _body(served[1])["result"]) == [name, name + "-old"]
    assert served[3]["body"] == ""
    assert _body(served[4])["error"]["message"] == "No Record found"
    (record,) = sb.request_log.since(mark)
    assert (record.items, record.writes) == (5, 3)


def test_empty_batch_and_bad_items(sb, api):
    """An empty batch is fine; a bad URL or base64 body is a 400 inside the batch."""
    url = sb.servicenow_url + BATCH
    assert api.post(url, json={"batch_request_id": 1, "rest_requests": []}).json() == {
        "batch_request_id": "1", "serviced_requests": [], "unserviced_requests": [],
    }  # fmt: skip
    bad = api.post(url, json={"batch_request_id": 2, "rest_requests": [
        {"id": "x", "method": "GET", "url": "/api/now/nothing"},
        {"id": "y", "method": "POST", "url": "/api/now/table/core_company", "body": "%%%"},
        {"id": "z", "method": "POST", "url": BATCH, "body": ""},
    ]}).json()  # fmt: skip
    assert [s["status_code"] for s in bad["serviced_requests"]] == [400, 400, 400]
    assert api.post(url, data=b"nope").status_code == 400


def test_batch_item_limit(cisync_sandbox_factory):
    """Items past batch_max_items come back unserviced, to be sent again."""
    sb = cisync_sandbox_factory(SandboxConfig(servicenow=ServiceNowOptions(batch_max_items=2)))
    items = [_item(str(i), "GET", "/api/now/table/cmdb_rel_type?sysparm_limit=1") for i in range(5)]
    with make_session(sb) as s:
        payload = s.post(
            sb.servicenow_url + BATCH, json={"batch_request_id": 1, "rest_requests": items}
        ).json()
    assert [x["id"] for x in payload["serviced_requests"]] == ["0", "1"]
    assert payload["unserviced_requests"] == ["2", "3", "4"]


def test_batch_time_limit(cisync_sandbox_factory):
    """Once the batch time limit has passed, the remaining items are unserviced."""
    sb = cisync_sandbox_factory(SandboxConfig(servicenow=ServiceNowOptions(batch_time_limit=0.0)))
    items = [_item(str(i), "GET", "/api/now/table/cmdb_rel_type") for i in range(3)]
    with make_session(sb) as s:
        payload = s.post(
            sb.servicenow_url + BATCH, json={"batch_request_id": 1, "rest_requests": items}
        ).json()
    assert len(payload["serviced_requests"]) + len(payload["unserviced_requests"]) == 3
    assert payload["unserviced_requests"][-1] == "2"


def test_readonly_user_in_a_batch(sb):
    """Sub-requests run as the batch's caller: the read-only user gets 403 per write item."""
    with make_session(sb, sb.readonly_username, sb.readonly_password) as s:
        payload = s.post(sb.servicenow_url + BATCH, json={"batch_request_id": 3, "rest_requests": [
            _item("r", "GET", "/api/now/table/cmdb_rel_type?sysparm_limit=1"),
            _item("w", "POST", "/api/now/table/core_company", {"name": "x"}),
        ]}).json()  # fmt: skip
    assert [s["status_code"] for s in payload["serviced_requests"]] == [200, 403]
