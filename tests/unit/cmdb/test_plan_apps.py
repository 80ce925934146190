"""Planning Business Application CIs: identity, adoption, field ownership, retirement."""

from datetime import timedelta

import attrs
import pytest

from cisync_lib import ConfigError, GuardRefusedError
from cisync_lib.cmdb import (
    AppScope,
    CmdbConfig,
    DesiredState,
    FieldPolicy,
    GracePolicy,
    GuardPolicy,
    ScopePolicy,
    make_plan,
)
from cisync_lib.cmdb._state import AppRow

from .helpers import NOW, app, apply_in_memory, desired, state, user

CFG = CmdbConfig(grace=GracePolicy(runs=2))


def run(d, st, rs=None, cfg=CFG, now=NOW, force=True):
    """Plan, check the guard, apply in memory, commit the run state."""
    plan = make_plan(d, st, cfg, rs, now=now)
    plan.guard.check(force=force)
    return plan, apply_in_memory(plan, st), plan.run_state.committed()


def test_first_run_creates_with_fields():
    plan = make_plan(desired([app(1), app(2)]), state(), CFG, now=NOW)
    assert [c.app_id for c in plan.creates] == ["1", "2"]
    values = plan.creates[0].values
    assert values["correlation_id"] == "mdca:app:1"
    assert values["name"] == "App 1"
    assert values["application_type"] == "saas"
    assert values["install_type"] == "cloud"
    assert values["vendor"] == "v" * 32
    assert values["operational_status"] == "1"
    assert values["first_discovered"] == values["last_discovered"] == "2026-11-27 10:00:00"
    assert values["discovery_source"] == "MSDefenderCloudApps"
    assert "founded: 1999\nheadquarters: Oslo" in values["short_description"]
    assert "isSoc2Compliant: true" in values["short_description"]
    assert len(plan.creates[0].sys_id) == 32


def test_sys_ids_are_deterministic():
    a = make_plan(desired([app(1)]), state(), CFG, now=NOW)
    b = make_plan(desired([app(1)]), state(), CFG, now=NOW + timedelta(days=3))
    assert a.creates[0].sys_id == b.creates[0].sys_id


def test_second_plan_is_empty_and_heartbeat_refreshes_later():
    d = desired([app(1), app(2)])
    _, st, rs = run(d, state())
    again = make_plan(d, st, CFG, rs, now=NOW + timedelta(hours=23))
    assert again.is_empty
    assert again.unchanged_apps == ("1", "2")
    later = make_plan(d, st, CFG, rs, now=NOW + timedelta(hours=25))
    assert [c.field for u in later.updates for c in u.changes] == ["last_discovered"] * 2


def test_update_only_changed_fields_and_curated_untouched():
    d = desired([app(1)])
    _, st, rs = run(d, state())
    row = st.apps[0]
    curated = {**row.values, "business_owner": "someone", "short_description": "edited by hand"}
    st = attrs.evolve(st, apps=(attrs.evolve(row, values=curated),))
    plan = make_plan(d, st, CFG, rs, now=NOW)
    (update,) = plan.updates
    assert [(c.field, c.old) for c in update.changes] == [("short_description", "edited by hand")]


def test_insert_only_policy_keeps_edits():
    cfg = attrs.evolve(
        CFG, field_policy={**CFG.field_policy, "short_description": FieldPolicy.INSERT}
    )
    d = desired([app(1)])
    _, st, rs = run(d, state(), cfg=cfg)
    row = st.apps[0]
    st = attrs.evolve(
        st, apps=(attrs.evolve(row, values={**row.values, "short_description": "x"}),)
    )
    assert make_plan(d, st, cfg, rs, now=NOW).is_empty


def test_adopt_by_exact_name():
    existing = AppRow(sys_id="a" * 32, name="App 1", values={"business_owner": "bob"})
    other = AppRow(sys_id="b" * 32, name="app 1")  # not exactly the same name
    plan = make_plan(desired([app(1)]), state([existing, other]), CFG, now=NOW)
    assert not plan.creates
    (update,) = plan.updates
    assert update.adopted
    assert update.sys_id == "a" * 32
    assert ("correlation_id", "mdca:app:1") in [(c.field, c.new) for c in update.changes]


def test_adoption_off_creates():
    existing = AppRow(sys_id="a" * 32, name="App 1")
    plan = make_plan(
        desired([app(1)]), state([existing]), attrs.evolve(CFG, adopt_by_name=False), now=NOW
    )
    assert len(plan.creates) == 1


def test_foreign_correlation_id_is_not_adopted():
    existing = AppRow(sys_id="a" * 32, name="App 1", correlation_id="other-tool:9")
    plan = make_plan(desired([app(1)]), state([existing]), CFG, now=NOW)
    assert len(plan.creates) == 1


def test_vendor_created_only_if_configured():
    plan = make_plan(desired([app(1)]), state(vendors={}), CFG, now=NOW)
    assert "vendor" not in plan.creates[0].values
    assert not plan.vendors
    cfg = attrs.evolve(CFG, create_vendors=True)
    plan = make_plan(desired([app(1), app(2)]), state(vendors={}), cfg, now=NOW)
    (vendor,) = plan.vendors
    assert vendor.name == "Acme"
    assert {c.values["vendor"] for c in plan.creates} == {vendor.sys_id}


def test_missing_choice_is_a_warning():
    st = attrs.evolve(state(), choices={})
    plan = make_plan(desired([app(1)]), st, CFG, now=NOW)
    assert "application_type" not in plan.creates[0].values
    assert plan.creates[0].values["operational_status"] == "1"  # base cmdb_ci value
    assert any("application_type" in w for w in plan.warnings)


def _ten_apps_then(drop):
    d = desired([app(i) for i in range(10)])
    _, st, rs = run(d, state())
    return st, rs, desired([app(i) for i in range(10) if i not in drop])


def test_retire_only_after_grace_runs():
    st, rs, d = _ten_apps_then({3})
    for n in range(2):  # grace runs = 2: missed twice, still kept
        plan, st, rs = run(d, st, rs)
        assert not plan.retires
        assert [p.app_id for p in plan.pending] == ["3"]
        assert plan.pending[0].missed_runs == n + 1
    plan, st, rs = run(d, st, rs)
    (retire,) = plan.retires
    assert retire.app_id == "3"
    assert retire.changes[0].new == "6"
    assert make_plan(d, st, CFG, rs, now=NOW).is_empty  # retired, never deleted


def test_reappearing_resets_grace_and_revives():
    st, rs, d = _ten_apps_then({3})
    _, st, rs = run(d, st, rs)
    full = desired([app(i) for i in range(10)])
    _, st, rs = run(full, st, rs)
    assert rs.missing_apps == {}
    cfg0 = attrs.evolve(CFG, grace=GracePolicy(runs=0))
    plan, st, rs = run(d, st, rs, cfg=cfg0)
    assert [r.app_id for r in plan.retires] == ["3"]
    plan, st, rs = run(full, st, rs)
    (update,) = plan.updates
    assert update.revived
    assert ("operational_status", "6", "1") in [(c.field, c.old, c.new) for c in update.changes]


def test_grace_days_must_also_pass():
    cfg = attrs.evolve(CFG, grace=GracePolicy(runs=0, days=2))
    st, rs, d = _ten_apps_then({3})
    plan, st, rs = run(d, st, rs, cfg=cfg)
    assert not plan.retires
    plan, st, rs = run(d, st, rs, cfg=cfg, now=NOW + timedelta(days=2))
    assert len(plan.retires) == 1


def test_uncommitted_runs_do_not_advance_grace():
    st, rs, d = _ten_apps_then({3})
    for _ in range(5):  # planned (and maybe crashed) but never committed
        plan = make_plan(d, st, CFG, rs, now=NOW)
        assert not plan.retires
        rs = plan.run_state


def test_lowered_max_risk_score_retires_exactly_those_above():
    apps = [app(i, risk=i) for i in range(11)]
    d = desired(apps)
    _, st, rs = run(d, state())
    low = desired(apps, max_risk_score=7)
    assert sorted(low.excluded) == ["10", "8", "9"]
    cfg0 = attrs.evolve(CFG, grace=GracePolicy(runs=0), guard=GuardPolicy(max_retire_percent=50))
    plan, _, _ = run(low, st, rs, cfg=cfg0)
    assert sorted(r.app_id for r in plan.retires) == ["10", "8", "9"]
    assert "above the maximum 7" in plan.retires[0].reason


@pytest.mark.parametrize("kind", ["incomplete", "empty"])
def test_failed_or_empty_source_never_retires(kind):
    st, rs, _ = _ten_apps_then(set())
    cfg0 = attrs.evolve(CFG, grace=GracePolicy(runs=0))
    d = desired([app(1)], source_complete=False) if kind == "incomplete" else desired([])
    plan = make_plan(d, st, cfg0, rs, now=NOW)
    assert not plan.retires
    assert not plan.pending
    assert plan.warnings


def test_guard_refuses_over_ten_percent():
    st, rs, d = _ten_apps_then({1, 2})
    cfg0 = attrs.evolve(CFG, grace=GracePolicy(runs=0))
    plan = make_plan(d, st, cfg0, rs, now=NOW)
    assert plan.guard.refuses_retire
    with pytest.raises(GuardRefusedError) as info:
        plan.guard.check()
    text = str(info.value)
    assert "2 of 10" in text
    assert "20.0%" in text
    assert "force=True" in text
    plan.guard.check(force=True)
    one = make_plan(desired([app(i) for i in range(10) if i != 1]), st, cfg0, rs, now=NOW)
    one.guard.check()  # 10% is not over the limit


def test_app_scope_filters():
    apps = [app(1, tags=("Sanctioned",)), app(2, tags=("Unsanctioned",)), app(3)]
    d = desired(apps, app_scope="sanctioned")
    assert list(d.apps) == ["1"]


def test_the_scope_policy_filters_and_explicit_arguments_win():
    apps = [app(1, tags=("Sanctioned",), risk=9), app(2, tags=("Unsanctioned",)), app(3, risk=2)]
    policy = ScopePolicy(max_risk_score=8, app_scope=AppScope.ALL, allow_user_sync=False)
    d = DesiredState.build(apps, {}, {"3": [user(1)]}, scope=policy)
    assert sorted(d.apps) == ["2", "3"]
    assert "risk score 9 is above the maximum 8" in d.excluded["1"]
    assert not d.sync_users  # the policy does not allow user sync
    narrowed = DesiredState.build(apps, {}, None, scope=policy, app_scope="sanctioned")
    assert list(narrowed.apps) == []  # app 1 is sanctioned but above the policy's risk score
    with pytest.raises(ConfigError, match="app_scope"):
        ScopePolicy(app_scope="approved")
