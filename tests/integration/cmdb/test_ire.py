"""The IRE write path: same outcome as the Table API, and a preflight that stops with instructions."""

import pytest

from cisync_lib import CmdbSetupError
from cisync_lib.cmdb import CmdbConfig, WritePath, apply, make_plan, read_state
from cisync_lib.sandbox import SandboxConfig, ServiceNowOptions

from .tenant import connect, desired_from, store_apps, store_links, tenant

IRE = CmdbConfig(write_path=WritePath.IRE, ire_batch_size=7)
COMPARED = (
    "name",
    "short_description",
    "application_type",
    "install_type",
    "vendor",
    "operational_status",
    "discovery_source",
)


def start(factory, **options):
    return factory(SandboxConfig(size="tiny", servicenow=ServiceNowOptions(**options)))


def sync(sb, desired, config):
    conn = connect(sb)
    state = read_state(conn, config, desired)
    plan = make_plan(desired, state, config)
    return plan, apply(plan, conn, config, state=state)


def outcome(sb):
    apps = {cid: {k: row[k] for k in COMPARED} for cid, row in store_apps(sb).items()}
    return apps, sorted(store_links(sb))


@pytest.mark.parametrize("rule", ["correlation_id", "name"])
def test_ire_equals_table_path(cisync_sandbox_factory, rule):
    desired = desired_from(tenant("tiny"))
    table = start(cisync_sandbox_factory)
    ire = start(cisync_sandbox_factory, identification_rule=rule)
    sync(table, desired, CmdbConfig())
    _, result = sync(ire, desired, IRE)
    assert result.apps_created == len(desired.apps)
    assert outcome(ire) == outcome(table)
    assert ire.request_log.round_trips(path_prefix="/api/now/identifyreconcile") == -(
        -len(desired.apps) // 7
    )
    assert ire.store.count("sys_object_source") == len(desired.apps)  # source lineage recorded
    mark = ire.request_log.mark()
    again, _ = sync(ire, desired, IRE)
    assert again.is_empty
    assert ire.request_log.writes(since=mark) == 0


def test_ire_updates_and_retires(cisync_sandbox_factory):
    from cisync_lib.cmdb import GracePolicy, GuardPolicy

    config = CmdbConfig(
        write_path=WritePath.IRE,
        grace=GracePolicy(runs=0),
        guard=GuardPolicy(max_retire_percent=100, max_unlink_percent=100),
    )
    sb = start(cisync_sandbox_factory)
    sync(sb, desired_from(tenant("tiny")), config)
    low = desired_from(tenant("tiny"), max_risk_score=6)
    first = next(iter(store_apps(sb).values()))
    sb.store.update("cmdb_ci_business_app", first["sys_id"], {"short_description": "edited"})
    _plan, result = sync(sb, low, config)
    assert result.apps_retired == len(low.excluded)
    retired = {cid for cid, r in store_apps(sb).items() if r["operational_status"] == "6"}
    assert retired == {f"mdca:app:{a}" for a in low.excluded}
    assert make_plan(low, read_state(connect(sb), config, low), config).is_empty


@pytest.mark.parametrize(
    ("options", "missing"),
    [
        ({"identification_rule": None}, "identification rule"),
        ({"data_source": "SomethingElse"}, "discovery_source choice 'MSDefenderCloudApps'"),
    ],
)
def test_preflight_stops_with_instructions(cisync_sandbox_factory, options, missing):
    sb = start(cisync_sandbox_factory, **options)
    desired = desired_from(tenant("tiny"))
    mark = sb.request_log.mark()
    with pytest.raises(CmdbSetupError) as info:
        sync(sb, desired, IRE)
    text = str(info.value)
    assert missing in text
    assert "sys_choice" in text
    assert "identification rule" in text
    assert "To fix" in text
    assert sb.request_log.writes(since=mark) == 0


def test_links_of_apps_ire_did_not_create_are_not_written(cisync_sandbox_factory):
    """IRE assigns a new CI's sys_id, so a link to an app whose create failed would point at
    a CI that never exists (and, once IRE creates it under another sys_id, stay an orphan)."""
    from cisync_lib import ApplyError
    from cisync_lib.sandbox import FaultRule

    sb = start(cisync_sandbox_factory)
    desired = desired_from(tenant("tiny"))
    sb.faults.add(FaultRule(service="servicenow", path="identifyreconcile", status=400))
    with pytest.raises(ApplyError):
        sync(sb, desired, IRE)
    sb.faults.clear()
    cis = {r["sys_id"] for r in sb.store.query("cmdb_ci_business_app")}
    dangling = [r for r in sb.store.query("cmdb_rel_person") if r["ci"] not in cis]
    assert dangling == []
    sync(sb, desired, IRE)  # the next run creates the apps and then their links
    assert sorted(store_links(sb)) == sorted(
        (f"mdca:app:{a}", u) for a, users in desired.links.items() for u in users
    )
    assert all(r["ci"] in {x["sys_id"] for x in sb.store.query("cmdb_ci_business_app")}
               for r in sb.store.query("cmdb_rel_person"))  # fmt: skip
