"""Grace periods, the blast-radius guard, empty sources, manual links and curated fields."""

import attrs
import pytest

from cisync_lib import GuardRefusedError
from cisync_lib.cmdb import CmdbConfig, GracePolicy, RunStateStore, apply, make_plan, read_state
from cisync_lib.sandbox import SandboxConfig

from .tenant import connect, store_apps, store_links, tenant, truth_inputs

GRACE2 = CmdbConfig(grace=GracePolicy(runs=2))


@pytest.fixture
def sb(cisync_sandbox_factory):
    return cisync_sandbox_factory(SandboxConfig(size="tiny"))


def run(sb, desired, store, config=GRACE2, force=False):
    conn = connect(sb)
    state = read_state(conn, config, desired)
    plan = make_plan(desired, state, config, store.load())
    apply(plan, conn, config, state=state, run_state=store, force=force)
    return plan


def build(links=None, **kw):
    apps, info, pairs = truth_inputs(tenant("tiny"))
    from cisync_lib.cmdb import DesiredState

    kw.setdefault("allow_user_sync", True)
    return DesiredState.build(apps, info, pairs if links is None else links, **kw)


def test_user_dropped_is_unlinked_only_after_grace(sb, tmp_path):
    store = RunStateStore(tmp_path / "state.json")
    full = build()
    run(sb, full, store)
    app_id = max(full.links, key=lambda a: len(full.links[a]))
    gone = sorted(full.links[app_id])[0]
    _, _, pairs = truth_inputs(tenant("tiny"))
    fewer = build({**pairs, app_id: pairs[app_id] - {gone}})
    pair = (f"mdca:app:{app_id}", gone)
    for n in (1, 2):  # two grace runs: still linked
        plan = run(sb, fewer, store)
        assert pair in store_links(sb)
        assert [p.missed_runs for p in plan.pending] == [n]
    assert store.load().completed_runs == 3
    plan = run(sb, fewer, store)
    assert pair not in store_links(sb)
    assert len(plan.remove_links) == 1
    assert len(store_links(sb)) == sum(len(v) for v in fewer.links.values())


def test_lowered_max_risk_score_retires_exactly_those_above_after_grace(sb, tmp_path):
    store = RunStateStore(tmp_path / "state.json")
    run(sb, build(), store)
    low = build(max_risk_score=6)
    above = {f"mdca:app:{a}" for a in low.excluded}
    assert above
    config = attrs.evolve(
        GRACE2, guard=attrs.evolve(GRACE2.guard, max_retire_percent=100, max_unlink_percent=100)
    )
    for _ in range(2):
        run(sb, low, store, config)
        assert all(r["operational_status"] == "1" for r in store_apps(sb).values())
    run(sb, low, store, config)
    status = {cid: r["operational_status"] for cid, r in store_apps(sb).items()}
    assert {cid for cid, s in status.items() if s == "6"} == above
    assert sb.store.count("cmdb_ci_business_app") == len(status)  # retired, never deleted


@pytest.mark.parametrize("source", ["empty", "failed"])
def test_empty_or_failed_source_removes_nothing(sb, tmp_path, source):
    store = RunStateStore(tmp_path / "state.json")
    config = CmdbConfig(grace=GracePolicy(runs=0))
    run(sb, build(), store, config)
    before_links, before_apps = sorted(store_links(sb)), store_apps(sb)
    if source == "empty":
        from cisync_lib.cmdb import DesiredState

        bad = DesiredState.build([], {}, {}, allow_user_sync=True)
    else:
        bad = build(source_complete=False)
    mark = sb.request_log.mark()
    for _ in range(3):
        plan = run(sb, bad, store, config, force=True)
        assert not plan.retires
        assert not plan.remove_links
    assert sb.request_log.writes(since=mark) == 0
    assert sorted(store_links(sb)) == before_links
    assert store_apps(sb) == before_apps


def test_guard_refuses_says_how_much_and_force_goes_ahead(sb, tmp_path):
    store = RunStateStore(tmp_path / "state.json")
    config = CmdbConfig(grace=GracePolicy(runs=0))
    run(sb, build(), store, config)
    apps, info, pairs = truth_inputs(tenant("tiny"))
    keep = sorted({a.id for a in apps})[: len({a.id for a in apps}) // 2]
    from cisync_lib.cmdb import DesiredState

    half = DesiredState.build([a for a in apps if a.id in keep], info, pairs, allow_user_sync=True)
    mark = sb.request_log.mark()
    with pytest.raises(GuardRefusedError) as info_:
        run(sb, half, store, config)
    text = str(info_.value)
    assert "refused to retire apps" in text
    assert "force=True" in text
    assert f"{info_.value.count} of {info_.value.managed}" in text
    assert sb.request_log.writes(since=mark) == 0
    run(sb, half, store, config, force=True)
    retired = [r for r in store_apps(sb).values() if r["operational_status"] == "6"]
    assert len(retired) == info_.value.count


def test_manual_links_and_curated_fields_survive_every_run(sb, tmp_path):
    store = RunStateStore(tmp_path / "state.json")
    config = CmdbConfig(grace=GracePolicy(runs=0), remove_links_when_user_sync_off=True)
    full = build()
    run(sb, full, store, config)
    apps = store_apps(sb)
    app_id = max(full.links, key=lambda a: len(full.links[a]))
    cid = f"mdca:app:{app_id}"
    row = apps[cid]
    used_by = sb.store.query("cmdb_rel_user_type", "name=Used by")[0]["sys_id"]
    owned_by = sb.store.query("cmdb_rel_user_type", "name=Owned by")[0]["sys_id"]
    someone = next(u.sys_id for u in tenant("tiny").sys_users if u.sys_id not in full.links[app_id])
    manual = [
        sb.store.insert("cmdb_rel_person", {"ci": row["sys_id"], "user": someone, "type": used_by}),
        sb.store.insert(
            "cmdb_rel_person", {"ci": row["sys_id"], "user": someone, "type": owned_by}
        ),
    ]
    curated = {
        "business_owner": someone,
        "data_classification": "confidential",
        "business_criticality": "1",
    }
    sb.store.update("cmdb_ci_business_app", row["sys_id"], curated)
    _, _, pairs = truth_inputs(tenant("tiny"))
    no_users = build({k: v for k, v in pairs.items() if k != app_id})
    off = build(allow_user_sync=False)
    for desired in (full, no_users, off, full):
        run(sb, desired, store, config, force=True)
        ours = [pair for pair in store_links(sb) if pair[0] == cid and pair[1] != someone]
        assert len(ours) == len(desired.links.get(app_id, ()))
        for sys_id in manual:
            assert sb.store.get("cmdb_rel_person", sys_id) is not None
        current = sb.store.get("cmdb_ci_business_app", row["sys_id"])
        assert {k: current[k] for k in curated} == curated
