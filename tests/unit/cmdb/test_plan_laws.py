"""Planner laws over generated desired and CMDB states (no HTTP).

The plans are executed by the interpreter below, written from the documented meaning of
each action (not from :func:`cisync_lib.cmdb.apply`): a create inserts a CI with its values,
an update or a retire sets the changed fields, a link insert adds a ``cmdb_rel_person`` row
made by the integration user, a link removal deletes the row.
"""

from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from cisync_lib.cmdb import CmdbConfig, CurrentState, DesiredState, GracePolicy, make_plan
from cisync_lib.cmdb._state import AppRow, LinkRow, ReadScope
from tests import strategies as sts

NOW = datetime(2026, 11, 27, 10, 0, 0, tzinfo=timezone.utc)
CHOICES = {
    "application_type": {"SaaS": "saas"},
    "install_type": {"Cloud": "cloud"},
    "operational_status": {"Operational": "1", "Retired": "6"},
}
#: no grace: a missing app or link is retired or unlinked in the first plan, so one
#: plan reaches the fixed point (with grace, each run only counts a miss).
CONFIGS = st.builds(
    CmdbConfig,
    grace=st.just(GracePolicy(runs=0)),
    adopt_by_name=st.booleans(),
    create_vendors=st.booleans(),
)


def _state(apps, links, vendors):
    return CurrentState(
        apps=tuple(apps),
        links=tuple(links),
        links_read=True,
        choices=CHOICES,
        rel_type="t" * 32,
        vendors=dict(vendors),
        integration_user=sts.CMDB_ME,
        read_at=NOW,
        scope=ReadScope(),
    )


class Cmdb:
    """Rows by sys_id: ``apps`` as ``{"correlation_id", "name", **fields}``, ``links``."""

    def __init__(self, state):
        self.apps = {
            a.sys_id: {**a.values, "correlation_id": a.correlation_id, "name": a.name}
            for a in state.apps
        }
        self.links = {k.sys_id: (k.ci, k.user, k.created_by) for k in state.links}
        self.vendors = dict(state.vendors)

    def run(self, action):
        kind = type(action).__name__
        if kind == "CreateVendor":
            self.vendors[action.name] = action.sys_id
        elif kind == "CreateApp":
            assert action.sys_id not in self.apps, "insert over an existing CI"
            self.apps[action.sys_id] = dict(action.values)
        elif kind in ("UpdateApp", "RetireApp"):
            row = self.apps[action.sys_id]
            for change in action.changes:
                assert row.get(change.field, "") == change.old, "stale old value"
                row[change.field] = change.new
        elif kind == "AddLink":
            sys_id = f"link:{action.ci}:{action.user}"
            assert sys_id not in self.links, "the same link inserted twice"
            self.links[sys_id] = (action.ci, action.user, sts.CMDB_ME)
        elif kind == "RemoveLink":
            del self.links[action.sys_id]
        else:  # pragma: no cover - a new action kind needs a meaning here
            raise AssertionError(kind)

    def state(self):
        apps = [
            AppRow(
                sys_id=s,
                correlation_id=v.get("correlation_id", ""),
                name=v.get("name", ""),
                values={k: x for k, x in v.items() if k not in ("correlation_id", "name")},
            )
            for s, v in self.apps.items()
        ]
        links = [
            LinkRow(sys_id=s, ci=c, user=u, created_by=b) for s, (c, u, b) in self.links.items()
        ]
        return _state(apps, links, self.vendors)

    def snapshot(self):
        return (
            {s: tuple(sorted(v.items())) for s, v in self.apps.items()},
            sorted(self.links.values()),
            self.vendors,
        )


def actions(plan):
    return [*plan.vendors, *plan.creates, *plan.updates, *plan.retires,
            *plan.remove_links, *plan.add_links]  # fmt: skip


def _desired(drawn, config):
    apps, info, links = drawn
    return DesiredState.build(apps, info, links, config=config, allow_user_sync=True)


@settings(max_examples=150, deadline=None)
@given(drawn=sts.cmdb_desired(), rows=sts.cmdb_rows(), config=CONFIGS)
def test_plan_apply_plan_is_empty(drawn, rows, config):
    """Planning again from the state a plan leads to finds nothing to do."""
    desired = _desired(drawn, config)
    before = _state(*rows, {"Acme": "v" * 32})
    plan = make_plan(desired, before, config, now=NOW)
    cmdb = Cmdb(before)
    for action in actions(plan):
        cmdb.run(action)
    again = make_plan(desired, cmdb.state(), config, plan.run_state.committed(), now=NOW)
    assert actions(again) == []
    assert again.is_empty


@settings(max_examples=100, deadline=None)
@given(
    drawn=sts.cmdb_desired(),
    rows=sts.cmdb_rows(),
    config=CONFIGS,
    data=st.data(),
)
def test_a_plans_actions_commute(drawn, rows, config, data):
    """A plan's actions touch distinct rows, so any order of applying them ends the same."""
    desired = _desired(drawn, config)
    before = _state(*rows, {"Acme": "v" * 32})
    plan = make_plan(desired, before, config, now=NOW)
    in_order, shuffled = Cmdb(before), Cmdb(before)
    for action in actions(plan):
        in_order.run(action)
    for action in data.draw(st.permutations(actions(plan))):
        shuffled.run(action)
    assert shuffled.snapshot() == in_order.snapshot()


@settings(max_examples=100, deadline=None)
@given(a=sts.cmdb_desired(), b=sts.cmdb_desired(), config=CONFIGS)
def test_disjoint_app_sets_commute(a, b, config):
    """Plans for two disjoint app sets, each applied in turn, give the same CMDB either way.

    Each plan reads an incomplete source (``source_complete=False``), as a run scoped to
    one set would, so neither retires the other's apps.
    """
    ids_a = {app.id for app in a[0]}
    b = (
        [x for x in b[0] if x.id not in ids_a],
        {k: v for k, v in b[1].items() if k not in ids_a},
        {k: v for k, v in b[2].items() if k not in ids_a},
    )

    def part(drawn):
        apps, info, links = drawn
        return DesiredState.build(
            apps, info, links, config=config, allow_user_sync=True, source_complete=False
        )

    def run(first, second):
        cmdb = Cmdb(_state((), (), {"Acme": "v" * 32}))
        for drawn in (first, second):
            plan = make_plan(part(drawn), cmdb.state(), config, now=NOW)
            for action in actions(plan):
                cmdb.run(action)
        return cmdb.snapshot()

    assert run(a, b) == run(b, a)
