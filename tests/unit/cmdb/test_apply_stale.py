"""apply refuses a plan whose run state is older than the job's (no HTTP: the plans write nothing)."""

import pytest

from cisync_lib import StalePlanError
from cisync_lib.cmdb import CmdbConfig, RunState, RunStateStore, apply, make_plan
from cisync_lib.cmdb._runstate import MissEntry
from cisync_lib.servicenow import BasicAuth, ServiceNowConnection

from .helpers import NOW, app, apply_in_memory, desired, state

CFG = CmdbConfig()


def _conn():
    # never contacted: the state is passed in and the plans hold no write
    return ServiceNowConnection("https://x.invalid", auth=BasicAuth(username="u", password="p"))


def test_a_plan_older_than_the_run_state_is_refused_and_the_state_kept(tmp_path):
    d = desired([app(1)])
    st = apply_in_memory(make_plan(d, state(), CFG, now=NOW), state())
    store = RunStateStore(tmp_path / "cmdb-run-state.json")
    old = make_plan(d, st, CFG, RunState(completed_runs=4), now=NOW)
    assert old.is_empty
    # later runs were committed since: another app went missing at run 7
    newer = RunState(
        completed_runs=7,
        missing_apps={"9": MissEntry(first_missed_at=NOW, misses=1, last_run=7)},
    )
    store.save(newer)
    conn = _conn()
    with pytest.raises(StalePlanError, match="run state"):
        apply(old, conn, CFG, state=st, run_state=store)
    assert store.load() == newer
    assert conn.request_count == 0


def test_a_plan_from_the_current_run_state_applies(tmp_path):
    d = desired([app(1)])
    st = apply_in_memory(make_plan(d, state(), CFG, now=NOW), state())
    store = RunStateStore(tmp_path / "cmdb-run-state.json")
    store.save(RunState(completed_runs=4))
    plan = make_plan(d, st, CFG, store.load(), now=NOW)
    apply(plan, _conn(), CFG, state=st, run_state=store)
    assert store.load().completed_runs == 5
