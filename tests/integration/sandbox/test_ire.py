"""The IRE API over HTTPS for cmdb_ci_business_app, checked against the store."""

from datetime import datetime, timedelta, timezone

import pytest

from cisync_lib.sandbox import SandboxConfig, ServiceNowOptions

from .conftest import make_session, unique

IRE = "/api/now/identifyreconcile"
SOURCE = "MSDefenderCloudApps"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = datetime(2026, 1, 5, 10, 0, 0, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


def _app(name, key, **values):
    return {
        "className": "cmdb_ci_business_app",
        "values": {"name": name, "correlation_id": f"mdca:app:{key}", **values},
        "sys_object_source_info": {"source_name": SOURCE, "source_native_key": str(key)},
    }


def _post(session, sb, items, path=IRE, source=SOURCE, **params):
    return session.post(
        sb.servicenow_url + path,
        params={"sysparm_data_source": source, **params},
        json={"items": items, "relations": []},
    )


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def ire_sb(cisync_sandbox_factory, clock):
    return cisync_sandbox_factory(SandboxConfig(servicenow=ServiceNowOptions(clock=clock)))


def test_insert_then_no_change_still_bumps_last_discovered(ire_sb, clock):
    """INSERT, then NO_CHANGE on an identical payload, which still writes last_discovered."""
    sb = ire_sb
    with make_session(sb) as s:
        first = _post(s, sb, [_app("Box", 11)]).json()["result"]["items"][0]
        assert (first["operation"], first["errorCount"]) == ("INSERT", 0)
        row = sb.store.get("cmdb_ci_business_app", first["sysId"])
        assert (row["discovery_source"], row["last_discovered"]) == (SOURCE, "2026-01-05 10:00:00")
        assert row["first_discovered"] == "2026-01-05 10:00:00"
        assert row["number"].startswith("APM")
        assert (
            sb.store.count(
                "sys_object_source", f"name={SOURCE}^id=11^target_sys_id={first['sysId']}"
            )
            == 1
        )

        clock.now += timedelta(hours=1)
        mark = sb.request_log.mark()
        again = _post(s, sb, [_app("Box", 11)]).json()["result"]["items"][0]
        assert (again["operation"], again["sysId"]) == ("NO_CHANGE", first["sysId"])
        row = sb.store.get("cmdb_ci_business_app", first["sysId"])
        assert row["last_discovered"] == "2026-01-05 11:00:00"
        assert row["first_discovered"] == "2026-01-05 10:00:00"
        assert row["sys_mod_count"] == "1"
        assert sb.request_log.writes(since=mark) == 1

        changed = _post(s, sb, [_app("Box", 11, short_description="files")]).json()
        assert changed["result"]["items"][0]["operation"] == "UPDATE"
        assert sb.store.get("cmdb_ci_business_app", first["sysId"])["short_description"] == "files"


def test_sys_object_source_wins_over_the_rule(ire_sb):
    """The source native key finds the CI even after its correlation_id changed."""
    sb = ire_sb
    with make_session(sb) as s:
        created = _post(s, sb, [_app("Drop", 22)]).json()["result"]["items"][0]["sysId"]
        moved = _app("Drop", 22)
        moved["values"]["correlation_id"] = "mdca:app:22-renamed"
        result = _post(s, sb, [moved]).json()["result"]["items"][0]
    assert (result["operation"], result["sysId"]) == ("UPDATE", created)
    assert result["identificationAttempts"][0]["attemptResult"] == "MATCHED"
    assert sb.store.count("cmdb_ci_business_app") == 1


def test_rule_on_name_adopts_a_manual_app(cisync_sandbox_factory):
    """With the rule on name, IRE updates an app someone created by hand."""
    options = ServiceNowOptions(identification_rule="name")
    sb = cisync_sandbox_factory(SandboxConfig(servicenow=options))
    manual = sb.store.insert("cmdb_ci_business_app", {"name": "Slack"})
    assert sb.store.query("cmdb_identifier_entry")[0]["criterion_attributes"] == "name"
    with make_session(sb) as s:
        result = _post(s, sb, [_app("slack", 33)]).json()["result"]["items"][0]
    assert (result["operation"], result["sysId"]) == ("UPDATE", manual)


def test_no_rule_is_identification_rule_missing(cisync_sandbox_factory):
    """Without an identification rule every item fails and nothing is written."""
    sb = cisync_sandbox_factory(
        SandboxConfig(servicenow=ServiceNowOptions(identification_rule=None))
    )
    assert sb.store.count("cmdb_identifier") == 0
    with make_session(sb) as s:
        item = _post(s, sb, [_app("Zoom", 44)]).json()["result"]["items"][0]
    assert item["errors"][0]["error"] == "IDENTIFICATION_RULE_MISSING"
    assert item["errorCount"] == 1
    assert sb.store.count("cmdb_ci_business_app") == 0
    assert sb.request_log.writes() == 0


def test_item_errors(ire_sb):
    """Missing criterion, duplicates in the CMDB and in the payload are per-item errors."""
    sb = ire_sb
    for _ in range(2):
        sb.store.insert("cmdb_ci_business_app", {"name": "Twin", "correlation_id": "mdca:app:55"})
    no_key = {"className": "cmdb_ci_business_app", "values": {"name": "Nameless"}}
    bad_class = {"className": "sys_user", "values": {"name": "x"}}
    items = [no_key, _app("Twin", 55), _app("Uno", 66), _app("Uno again", 66), bad_class]
    items[1].pop("sys_object_source_info")
    with make_session(sb) as s:
        result = _post(s, sb, items).json()["result"]["items"]
    codes = [i["errors"][0]["error"] if i["errors"] else i["operation"] for i in result]
    assert codes == [
        "MISSING_MATCHING_ATTRIBUTES", "MULTIPLE_DUPLICATE_RECORDS", "INSERT",
        "DUPLICATE_PAYLOAD_RECORDS", "INVALID_INPUT_DATA",
    ]  # fmt: skip
    assert sb.store.count("cmdb_ci_business_app", "correlation_id=mdca:app:66") == 1


def test_query_is_a_dry_run(ire_sb):
    """/query identifies without writing anything."""
    sb = ire_sb
    with make_session(sb) as s:
        item = _post(s, sb, [_app("Dry", 77)], path=IRE + "/query").json()["result"]["items"][0]
    assert (item["operation"], item["sysId"]) == ("INSERT", "")
    assert sb.store.count("cmdb_ci_business_app") == 0
    assert sb.request_log.writes() == 0


def test_enhanced_options(ire_sb):
    """/enhanced parses its options: a summary on request, 500 for a malformed chunk."""
    sb = ire_sb
    with make_session(sb) as s:
        good = _post(s, sb, [_app("E", 88)], path=IRE + "/enhanced",
                     options="partial_payloads:false,generate_summary:true")  # fmt: skip
        assert good.json()["result"]["summary"] == {"INSERT": 1}
        bad = _post(s, sb, [_app("E", 88)], path=IRE + "/enhanced", options="oops")
        assert bad.status_code == 500
        assert "Chunk [oops] is not a valid entry" in bad.json()["error"]["message"]


def test_data_source_and_role_checks(ire_sb):
    """An unregistered data source is refused; so is the read-only user."""
    sb = ire_sb
    with make_session(sb) as s:
        unknown = _post(s, sb, [_app("X", 1)], source="NotRegistered")
        assert unknown.status_code == 400
        assert unknown.json()["error"]["message"] == "INVALID_INPUT_DATA"
    with make_session(sb, sb.readonly_username, sb.readonly_password) as ro:
        assert _post(ro, sb, [_app("X", 1)]).status_code == 403


def test_relations_create_cmdb_rel_ci(ire_sb):
    """Relations between payload items become cmdb_rel_ci rows with the named type."""
    sb = ire_sb
    with make_session(sb) as s:
        payload = {
            "items": [_app(unique("p"), 901), _app(unique("c"), 902)],
            "relations": [{"parent": 0, "child": 1, "type": "Uses::Used by"}],
        }
        response = s.post(
            sb.servicenow_url + IRE, params={"sysparm_data_source": SOURCE}, json=payload
        )
        result = response.json()["result"]
    (relation,) = result["relations"]
    assert relation["operation"] == "INSERT"
    row = sb.store.get("cmdb_rel_ci", relation["sysId"])
    assert (row["parent"], row["child"]) == (
        result["items"][0]["sysId"],
        result["items"][1]["sysId"],
    )
    assert row["type"] == "cb5592603751200032ff8c00dfbe5d17"
