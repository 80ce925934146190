"""Plan and apply against the HTTPS sandbox: the instance ends up equal to the ground truth."""

import pytest

from cisync_lib.cmdb import CmdbConfig, apply, make_plan, read_state, render_plan
from cisync_lib.sandbox import SandboxConfig

from .tenant import (
    DEFAULT,
    connect,
    desired_from,
    expected_pairs,
    store_apps,
    store_links,
    tenant,
)


@pytest.fixture
def sb(cisync_sandbox_factory):
    return cisync_sandbox_factory(SandboxConfig(size="tiny"))


def sync(sb, desired, config=DEFAULT, **kw):
    conn = connect(sb)
    state = read_state(conn, config, desired)
    plan = make_plan(desired, state, config, kw.pop("run_state_value", None))
    result = apply(plan, conn, config, state=state, **kw)
    return plan, result, conn


def test_tiny_tenant_converges_and_second_run_writes_nothing(sb):
    t = tenant("tiny")
    desired = desired_from(t)
    progress = []
    plan, result, _ = sync(sb, desired, progress=progress.append)
    assert result.apps_created == len(desired.apps)
    assert progress[0].phase == "check"
    assert (progress[-1].phase, progress[-1].done, progress[-1].total) == (
        "write",
        plan.write_count,
        plan.write_count,
    )
    # documented: up to 500 writes per call, a CI counting as 5 links (100 CIs per call)
    cis = len(plan.creates) + len(plan.vendors)
    weight = cis * 5 + (plan.write_count - cis)
    assert result.write_requests == -(-weight // 500)
    apps = store_apps(sb)
    assert sorted(apps) == sorted(f"mdca:app:{a}" for a in desired.apps)
    saas = sb.store.query(
        "sys_choice", "name=cmdb_ci_business_app^element=application_type^label=SaaS"
    )[0]["value"]
    for app_id, want in desired.apps.items():
        row = apps[f"mdca:app:{app_id}"]
        assert row["name"] == want.name
        assert row["application_type"] == saas
        assert row["operational_status"] == "1"
        assert row["short_description"] == want.description
    assert sorted(store_links(sb)) == expected_pairs(desired)

    mark = sb.request_log.mark()
    again, result2, _ = sync(sb, desired)
    assert again.is_empty, render_plan(again)
    assert sb.request_log.writes(since=mark) == 0
    assert result2.write_requests == 0


def test_vendors_created_only_when_configured(sb):
    t = tenant("tiny")
    desired = desired_from(t)
    sync(sb, desired)
    assert sb.store.count("core_company") == 0
    config = CmdbConfig(create_vendors=True)
    _plan, result, _ = sync(sb, desired, config)
    names = {a.vendor for a in desired.apps.values() if a.vendor}
    assert result.vendors_created == len(names)
    companies = {r["name"]: r["sys_id"] for r in sb.store.query("core_company")}
    assert set(companies) == names
    for cid, row in store_apps(sb).items():
        want = desired.apps[cid.removeprefix("mdca:app:")].vendor
        assert row["vendor"] == (companies[want] if want else "")
    again, _, _ = sync(sb, desired, config)
    assert again.is_empty


def test_adopts_a_hand_made_app_by_exact_name(sb):
    t = tenant("tiny")
    desired = desired_from(t)
    first = sorted(desired.apps.values(), key=lambda a: a.app_id)[0]
    hand = sb.store.insert(
        "cmdb_ci_business_app",
        {"name": first.name, "business_owner": "f" * 32, "data_classification": "confidential"},
    )
    plan, _, _ = sync(sb, desired)
    assert [u.sys_id for u in plan.updates if u.adopted] == [hand]
    row = sb.store.get("cmdb_ci_business_app", hand)
    assert row["correlation_id"] == f"mdca:app:{first.app_id}"
    assert row["business_owner"] == "f" * 32
    assert row["data_classification"] == "confidential"
    assert sb.store.count("cmdb_ci_business_app", f"name={first.name}") == 1


def test_stale_plan_is_refused_or_replanned(sb):
    from cisync_lib import StalePlanError

    t = tenant("tiny")
    desired = desired_from(t)
    sync(sb, desired)
    conn = connect(sb)
    plan = make_plan(desired, read_state(conn, CmdbConfig(), desired))
    row = next(iter(store_apps(sb).values()))
    sb.store.update("cmdb_ci_business_app", row["sys_id"], {"name": "Renamed by hand"})
    mark = sb.request_log.mark()
    with pytest.raises(StalePlanError, match="plan again"):
        apply(plan, conn)
    assert sb.request_log.writes(since=mark) == 0
    result = apply(plan, conn, on_stale="replan", desired=desired)
    assert result.replanned
    assert result.apps_updated == 1
    assert sb.store.get("cmdb_ci_business_app", row["sys_id"])["name"] == row["name"]
