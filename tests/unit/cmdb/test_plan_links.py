"""Planning user links: managed scope, duplicates, grace, user sync off, guard."""

import attrs
import pytest

from cisync_lib import CmdbSetupError, GuardRefusedError
from cisync_lib.cmdb import CmdbConfig, GracePolicy, LinkOwnership, make_plan
from cisync_lib.cmdb._state import LinkRow

from .helpers import ME, NOW, app, apply_in_memory, desired, state, user

CFG = CmdbConfig(grace=GracePolicy(runs=1))
APPS = [app(i) for i in range(4)]
LINKS = {str(i): [user(10 * i + k) for k in range(5)] for i in range(4)}


def run(d, st, rs=None, cfg=CFG, force=True):
    plan = make_plan(d, st, cfg, rs, now=NOW)
    plan.guard.check(force=force)
    return plan, apply_in_memory(plan, st), plan.run_state.committed()


def _base():
    return run(desired(APPS, LINKS), state())


def test_links_created_for_new_apps_then_stable():
    plan, st, rs = _base()
    assert len(plan.add_links) == 20
    assert all(a.new_app for a in plan.add_links)
    ci_of = {c.app_id: c.sys_id for c in plan.creates}
    assert {a.ci for a in plan.add_links if a.app_id == "2"} == {ci_of["2"]}
    again = make_plan(desired(APPS, LINKS), st, CFG, rs, now=NOW)
    assert again.is_empty
    assert sum(again.unchanged_links.values()) == 20


def test_no_links_without_user_sync():
    plan = make_plan(
        desired(APPS, LINKS, allow_user_sync=False), state(links_read=False), CFG, now=NOW
    )
    assert not plan.add_links
    assert plan.rel_type is None
    plan = make_plan(desired(APPS, LINKS, user_relationship_selected=False), state(), CFG, now=NOW)
    assert not plan.add_links


def test_missing_relationship_type_says_how_to_fix():
    with pytest.raises(CmdbSetupError) as info:
        make_plan(desired(APPS, LINKS), state(rel_type=None), CFG, now=NOW)
    assert "cmdb_rel_user_type" in str(info.value)
    assert "Used by" in str(info.value)


def _drop(app_id, users):
    return {k: [u for u in v if not (k == app_id and u in users)] for k, v in LINKS.items()}


def test_unlinked_only_after_grace():
    _, st, rs = _base()
    gone = user(21)
    d = desired(APPS, _drop("2", {gone}))
    plan, st, rs = run(d, st, rs)
    assert not plan.remove_links
    assert [p.kind for p in plan.pending] == ["link"]
    plan, st, rs = run(d, st, rs)
    (removal,) = plan.remove_links
    assert (removal.user, removal.app_id, removal.reason) == (gone, "2", "stale")
    assert make_plan(d, st, CFG, rs, now=NOW).is_empty


def test_manual_links_survive():
    _, st, rs = _base()
    ci = st.apps[0].sys_id
    manual = LinkRow(sys_id="m" * 32, ci=ci, user=user(999), created_by="alice")
    other_ci = LinkRow(sys_id="n" * 32, ci="z" * 32, user=user(1), created_by=ME)
    st = attrs.evolve(st, links=(*st.links, manual, other_ci))
    cfg0 = attrs.evolve(CFG, grace=GracePolicy(runs=0))
    plan = make_plan(desired(APPS, LINKS), st, cfg0, rs, now=NOW)
    assert plan.is_empty
    # with ownership by scope, the person's "Used by" row on our app is ours to judge
    scoped = make_plan(
        desired(APPS, LINKS),
        st,
        attrs.evolve(cfg0, link_ownership=LinkOwnership.SCOPE),
        rs,
        now=NOW,
    )
    assert [r.sys_id for r in scoped.remove_links] == ["m" * 32]


def test_duplicates_healed_keeping_a_persons_row():
    _, st, rs = _base()
    first = st.links[0]
    dup_ours = attrs.evolve(first, sys_id="0" * 32)
    dup_alice = attrs.evolve(first, sys_id="1" * 32, created_by="alice")
    st = attrs.evolve(st, links=(*st.links, dup_ours, dup_alice))
    plan = make_plan(desired(APPS, LINKS), st, CFG, rs, now=NOW)
    assert sorted(r.sys_id for r in plan.remove_links) == sorted(["0" * 32, first.sys_id])
    assert {r.reason for r in plan.remove_links} == {"duplicate"}
    assert plan.guard.unlink_count == 0


def test_hand_made_duplicates_are_reported_never_deleted():
    """Two people's rows for the same (app, user): both stay, the plan says so."""
    _, st, rs = _base()
    first = st.links[0]
    alice = attrs.evolve(first, sys_id="1" * 32, created_by="alice")
    bob = attrs.evolve(first, sys_id="2" * 32, created_by="bob")
    st = attrs.evolve(st, links=(*st.links, alice, bob))
    for cfg in (CFG, attrs.evolve(CFG, link_ownership=LinkOwnership.SCOPE)):
        plan = make_plan(desired(APPS, LINKS), st, cfg, rs, now=NOW)
        # only our own row is a removable duplicate; alice's is kept, bob's is reported
        assert [r.sys_id for r in plan.remove_links] == [first.sys_id]
        warning = next(w for w in plan.warnings if "duplicate user link" in w)
        assert warning.startswith("1 duplicate user link(s) not created by the integration user")
        assert "cmdb_rel_person/" + "2" * 32 in warning


def test_duplicates_of_an_unknown_integration_user_are_all_kept():
    _, st, rs = _base()
    first = st.links[0]
    st = attrs.evolve(
        st, links=(*st.links, attrs.evolve(first, sys_id="0" * 32)), integration_user=None
    )
    rs = attrs.evolve(rs, integration_user=None)
    plan = make_plan(desired(APPS, LINKS), st, CFG, rs, now=NOW)
    assert plan.remove_links == ()
    assert any("1 duplicate user link(s)" in w for w in plan.warnings)


def test_user_sync_off_leaves_links_by_default():
    _, st, rs = _base()
    d = desired(APPS, LINKS, allow_user_sync=False)
    assert make_plan(d, st, CFG, rs, now=NOW).is_empty


def test_user_sync_off_can_remove_ours_through_guard():
    _, st, rs = _base()
    cfg = attrs.evolve(CFG, remove_links_when_user_sync_off=True)
    d = desired(APPS, LINKS, allow_user_sync=False)
    plan = make_plan(d, st, cfg, rs, now=NOW)
    assert len(plan.remove_links) == 20
    assert {r.reason for r in plan.remove_links} == {"user_sync_off"}
    with pytest.raises(GuardRefusedError, match="remove user links"):
        plan.guard.check()


def test_empty_user_source_removes_nothing():
    _, st, rs = _base()
    cfg0 = attrs.evolve(CFG, grace=GracePolicy(runs=0))
    plan = make_plan(desired(APPS, {}), st, cfg0, rs, now=NOW)
    assert not plan.remove_links
    assert not plan.pending


def test_failed_user_lookups_remove_nothing():
    """A sys_user lookup that failed must not look like users who left the app."""
    _, st, rs = _base()
    cfg0 = attrs.evolve(CFG, grace=GracePolicy(runs=0))
    d = desired(APPS, _drop("2", {user(21), user(22)}), links_complete=False)
    plan = make_plan(d, st, cfg0, rs, now=NOW)
    assert not plan.remove_links
    assert not plan.pending
    assert any("lookups failed" in w for w in plan.warnings)
    complete = desired(APPS, _drop("2", {user(21), user(22)}))
    assert {r.user for r in make_plan(complete, st, cfg0, rs, now=NOW).remove_links} == {
        user(21),
        user(22),
    }


def test_links_of_apps_with_unknown_users_are_kept_and_not_counted():
    """Users of app 2 could not all be looked up: its links are unknown, not absent."""
    _, st, rs = _base()
    cfg0 = attrs.evolve(CFG, grace=GracePolicy(runs=0))
    dropped = _drop("2", {user(21), user(22)})
    dropped = {**dropped, "3": [u for u in dropped["3"] if u != user(31)]}
    d = desired(APPS, dropped, links_unknown={"2"})
    plan = make_plan(d, st, cfg0, rs, now=NOW)
    # app 3's users were all looked up: its stale link goes; app 2's two stay, uncounted
    assert {(r.app_id, r.user) for r in plan.remove_links} == {("3", user(31))}
    assert plan.held_links == 2
    assert not [k for k in plan.run_state.missing_links if user(21) in k or user(22) in k]
    assert any("2 existing user link(s) of 1 app(s) not evaluated" in w for w in plan.warnings)
    # a run that sees them again later keeps them; one that misses them counts from one
    later = make_plan(desired(APPS, dropped), st, CFG, plan.run_state.committed(), now=NOW)
    assert {p.missed_runs for p in later.pending if p.app_id == "2"} == {1}


def test_guard_on_links():
    _, st, rs = _base()
    cfg0 = attrs.evolve(CFG, grace=GracePolicy(runs=0))
    d = desired(APPS, _drop("1", set(LINKS["1"])) | {"0": LINKS["0"][:1]})
    plan = make_plan(d, st, cfg0, rs, now=NOW)
    assert plan.guard.unlink_count == 9
    assert plan.guard.managed_links == 20
    with pytest.raises(GuardRefusedError, match="9 of 20"):
        plan.guard.check()


def test_links_of_retired_app_removed_after_grace():
    _, st, rs = _base()
    apps = APPS[:3]
    cfg0 = attrs.evolve(CFG, grace=GracePolicy(runs=0))
    plan = make_plan(desired(apps, LINKS), st, cfg0, rs, now=NOW)
    assert [r.app_id for r in plan.retires] == ["3"]
    assert {r.app_id for r in plan.remove_links} == {"3"}
    assert len(plan.remove_links) == 5


def test_unknown_integration_user_removes_nothing():
    _, st, rs = _base()
    st = attrs.evolve(st, integration_user=None)
    cfg0 = attrs.evolve(CFG, grace=GracePolicy(runs=0))
    plan = make_plan(desired(APPS, _drop("2", {user(21)})), st, cfg0, rs, now=NOW)
    assert not plan.remove_links
    assert any("integration user" in w for w in plan.warnings)


def test_links_not_read_is_a_warning():
    plan = make_plan(desired(APPS, LINKS), state(links_read=False), CFG, now=NOW)
    assert not plan.add_links
    assert any("not read" in w for w in plan.warnings)
