"""The grace period as a state machine, against a small independent model (Hypothesis stateful).

Any sequence of runs: complete ones that see or miss an app and a user link,
empty reads, incomplete reads, failed ``sys_user`` lookups (all of them, or those of
the app's users only), runs refused by the
guard (nothing saved), and runs that crash before their first write or after
their last one (the pending run state saved, never committed). The model is
the rule in ``docs/cmdb-grace-guard.md``: an item is removed only once more
than ``grace_runs`` consecutive *complete, committed* runs did not see it; a run
that sees it starts the count again.
"""

from __future__ import annotations

import attrs
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from cisync_lib.cmdb import CmdbConfig, GracePolicy, GuardPolicy, RunState, make_plan

from .helpers import NOW, app, apply_in_memory, desired, state

KEPT = app(1)  # always reported, so a complete run is never "empty"
COMING = app(9)  # the app that comes and goes
ALWAYS, COMES = "a" * 32, "b" * 32  # users of app 1; the link to COMES comes and goes
KINDS = (
    "complete",
    "empty",
    "incomplete",
    "lookups_failed",
    "users_unknown",
    "refused",
    "crash_before_writes",
    "crash_after_writes",
)


@attrs.define
class Model:
    """The documented rule, written independently of the planner."""

    grace: int
    app_live: bool = False
    app_misses: int = 0
    link_present: bool = False
    link_misses: int = 0

    def run(self, kind: str, app_seen: bool, link_seen: bool) -> None:
        if kind in ("refused", "empty"):
            return  # refused: nothing saved or written; empty: nothing seen, nothing observed
        writes = kind != "crash_before_writes"
        commits = kind not in ("crash_before_writes", "crash_after_writes")
        apps_observe = kind != "incomplete"
        links_observe = apps_observe and kind not in ("lookups_failed", "users_unknown")
        self.app_live, self.app_misses = self.step(
            self.app_live, self.app_misses, app_seen, apps_observe, writes, commits
        )
        self.link_present, self.link_misses = self.step(
            self.link_present, self.link_misses, link_seen, links_observe, writes, commits
        )

    def step(
        self, present: bool, misses: int, seen: bool, observes: bool, writes: bool, commits: bool
    ) -> tuple[bool, int]:
        if seen:  # created or revived when written; the count starts again
            return present or writes, 0
        if not present:
            return False, 0
        counted = misses + observes  # this run's miss, if it observes and commits
        if counted > self.grace and writes:
            return False, 0  # retired or removed
        return True, counted if commits else misses


class GraceMachine(RuleBasedStateMachine):
    @initialize(grace=st.integers(0, 3))
    def start(self, grace: int) -> None:
        self.config = CmdbConfig(
            grace=GracePolicy(runs=grace),
            guard=GuardPolicy(max_retire_percent=100, max_unlink_percent=100),
        )
        self.model = Model(grace=grace)
        self.instance = state()
        self.saved = RunState()  # what the run-state file holds

    @rule(
        kind=st.sampled_from(KINDS),
        app_seen=st.booleans(),
        link_seen=st.booleans(),
    )
    def one_run(self, kind: str, app_seen: bool, link_seen: bool) -> None:
        apps = [KEPT, COMING] if app_seen else [KEPT]
        users = {"1": [ALWAYS, COMES] if link_seen else [ALWAYS]}
        if kind == "empty":
            want = desired([], {})
        else:
            want = desired(
                apps,
                users,
                source_complete=kind != "incomplete",
                links_complete=kind != "lookups_failed",
                links_unknown={"1"} if kind == "users_unknown" else (),
            )
        plan = make_plan(want, self.instance, self.config, self.saved, now=NOW)
        if kind == "refused":
            pass  # the guard refused before anything was saved
        elif kind == "crash_before_writes":
            self.saved = plan.run_state  # saved before the first write, never committed
        elif kind == "crash_after_writes":
            self.instance = apply_in_memory(plan, self.instance)
            self.saved = plan.run_state
        else:
            self.instance = apply_in_memory(plan, self.instance)
            self.saved = plan.run_state.committed()
        if kind in ("empty", "incomplete"):
            assert not plan.retires
        if kind in ("empty", "incomplete", "lookups_failed", "users_unknown"):
            assert not plan.remove_links
        self.model.run(kind, app_seen, link_seen)

    @invariant()
    def instance_matches_model(self) -> None:
        if not hasattr(self, "model"):
            return
        live = {
            row.correlation_id
            for row in self.instance.apps
            if row.values.get("operational_status") == "1"
        }
        assert ("mdca:app:9" in live) == self.model.app_live
        linked = {link.user for link in self.instance.links}
        assert (COMES in linked) == self.model.link_present

    @invariant()
    def pending_counts_match_model(self) -> None:
        if not hasattr(self, "model"):
            return
        done = self.saved.completed_runs
        app_entries = [e.committed_misses(done) for e in self.saved.missing_apps.values()]
        link_entries = [e.committed_misses(done) for e in self.saved.missing_links.values()]
        if self.model.app_live:
            assert sum(app_entries) == self.model.app_misses
        if self.model.link_present:
            assert sum(link_entries) == self.model.link_misses


GraceMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
test_grace_state_machine = GraceMachine.TestCase
