"""Grace periods through the HTTPS sandbox: any mix of runs, removal exactly after N real misses.

A Hypothesis state machine drives real plan/apply runs (unmodified pysnc) over
a tiny tenant: complete runs that see or miss one app and one user link, empty
reads, incomplete reads, runs whose user lookups failed for the app, runs the
blast-radius guard refuses, and failed source reads (nothing happens). The
oracle is the documented rule, kept in a small model, checked against the rows
in the sandbox store after every run.
"""

from __future__ import annotations

import contextlib

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from cisync_lib import GuardRefusedError
from cisync_lib.cmdb import (
    CmdbConfig,
    DesiredState,
    GracePolicy,
    GuardPolicy,
    RunStateStore,
    apply,
    make_plan,
    read_state,
)
from cisync_lib.sandbox import Sandbox, SandboxConfig

from .tenant import connect, store_apps, store_links, tenant, truth_inputs

GRACE = 2
KINDS = ("complete", "empty", "incomplete", "users_unknown", "guarded", "read_failed")


def _choose():
    """The app that comes and goes, and the app whose one link comes and goes."""
    apps, info, pairs = truth_inputs(tenant("tiny"))
    linked = sorted(a for a, users in pairs.items() if len(users) >= 2)
    unlinked = sorted({a.id for a in apps} - set(pairs))
    coming = unlinked[0] if unlinked else linked[-1]
    host = next(a for a in linked if a != coming)
    user = sorted(pairs[host])[0]
    return apps, info, pairs, coming, host, user


@attrs.define
class Model:
    """The rule of docs/cmdb-grace-guard.md, independent of the planner."""

    app_live: bool = True
    app_misses: int = 0
    link_present: bool = True
    link_misses: int = 0

    def removes(self, app_seen: bool, link_seen: bool) -> bool:
        """Whether a complete run with these sightings retires or removes something."""
        return (not app_seen and self.app_live and self.app_misses + 1 > GRACE) or (
            not link_seen and self.link_present and self.link_misses + 1 > GRACE
        )

    def run(self, kind: str, app_seen: bool, link_seen: bool) -> None:
        if kind in ("empty", "read_failed"):
            return
        if kind == "guarded" and self.removes(app_seen, link_seen):
            return  # refused: nothing saved, nothing written
        apps_observe = kind != "incomplete"
        links_observe = apps_observe and kind != "users_unknown"
        self.app_live, self.app_misses = _step(
            self.app_live, self.app_misses, app_seen, apps_observe
        )
        self.link_present, self.link_misses = _step(
            self.link_present, self.link_misses, link_seen, links_observe
        )


def _step(present: bool, misses: int, seen: bool, observes: bool) -> tuple[bool, int]:
    if seen:
        return True, 0
    if not present:
        return False, 0
    counted = misses + observes
    return (False, 0) if counted > GRACE else (True, counted)


class GraceThroughSandbox(RuleBasedStateMachine):
    sandbox: Sandbox
    folder: object

    @initialize()
    def first_sync(self) -> None:
        sb = self.sandbox
        for table in ("cmdb_rel_person", "cmdb_ci_business_app"):
            for row in sb.store.query(table):
                sb.store.delete(table, row["sys_id"])
        self.apps, self.info, self.pairs, self.coming, self.host, self.user = _choose()
        path = self.folder / f"run-state-{id(self)}.json"
        path.unlink(missing_ok=True)
        self.store = RunStateStore(path)
        self.conn = connect(sb)
        self.config = CmdbConfig(
            grace=GracePolicy(runs=GRACE),
            guard=GuardPolicy(max_retire_percent=100, max_unlink_percent=100),
        )
        self.guarded = attrs.evolve(
            self.config,
            guard=GuardPolicy(max_retire_percent=0, max_unlink_percent=0, min_count=0),
        )
        self._sync(self._desired(True, True), self.config)
        self.model = Model()

    def _desired(self, app_seen: bool, link_seen: bool, **kw: object) -> DesiredState:
        apps = [a for a in self.apps if app_seen or a.id != self.coming]
        pairs = dict(self.pairs)
        if not link_seen:
            pairs[self.host] = pairs[self.host] - {self.user}
        if not app_seen:
            pairs.pop(self.coming, None)
        return DesiredState.build(apps, self.info, pairs, allow_user_sync=True, **kw)

    def _sync(self, desired: DesiredState, config: CmdbConfig) -> None:
        state = read_state(self.conn, config, desired)
        plan = make_plan(desired, state, config, self.store.load())
        with contextlib.suppress(GuardRefusedError):  # refused: nothing saved or written
            apply(plan, self.conn, config, state=state, run_state=self.store)

    @rule(kind=st.sampled_from(KINDS), app_seen=st.booleans(), link_seen=st.booleans())
    def one_run(self, kind: str, app_seen: bool, link_seen: bool) -> None:
        if kind == "read_failed":
            pass  # the source raised: nothing was planned, saved or written
        elif kind == "empty":
            self._sync(DesiredState.build([], {}, {}, allow_user_sync=True), self.config)
        elif kind == "guarded":
            self._sync(self._desired(app_seen, link_seen), self.guarded)
        else:
            desired = self._desired(
                app_seen,
                link_seen,
                source_complete=kind != "incomplete",
                links_unknown={self.host} if kind == "users_unknown" else (),
            )
            self._sync(desired, self.config)
        self.model.run(kind, app_seen, link_seen)

    @invariant()
    def store_matches_model(self) -> None:
        if not hasattr(self, "model"):
            return
        apps = store_apps(self.sandbox)
        live = apps[f"mdca:app:{self.coming}"]["operational_status"] == "1"
        assert live == self.model.app_live
        linked = (f"mdca:app:{self.host}", self.user) in store_links(self.sandbox)
        assert linked == self.model.link_present
        assert len(set(store_links(self.sandbox))) == len(store_links(self.sandbox))


@pytest.fixture(scope="module")
def grace_sandbox():
    with Sandbox(SandboxConfig(size="tiny", seed=0)) as sb:
        yield sb


def test_removal_exactly_after_n_real_misses_whatever_runs_come_between(grace_sandbox, tmp_path):
    GraceThroughSandbox.sandbox = grace_sandbox
    GraceThroughSandbox.folder = tmp_path
    run_state_machine_as_test(
        GraceThroughSandbox,
        settings=settings(
            max_examples=6,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
