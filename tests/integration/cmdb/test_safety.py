"""Crash safety: injected faults and a killed process never leave duplicates, and re-running converges."""

import collections
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cisync_lib import ApplyError
from cisync_lib.cmdb import CmdbConfig, RunStateStore, apply, dump_plan, make_plan, read_state
from cisync_lib.sandbox import FaultRule, SandboxConfig

from .tenant import (
    connect,
    desired_from,
    expected_pairs,
    store_links,
    tenant,
)

BATCH = "/api/now/v1/batch"
CONFIG = CmdbConfig(batch_size=25)


@pytest.fixture
def sb(cisync_sandbox_factory):
    return cisync_sandbox_factory(SandboxConfig(size="tiny"))


def converge(sb, desired, config=CONFIG, conn=None, attempts=3):
    """Run plan/apply until it succeeds (a failed run is simply run again)."""
    conn = conn or connect(sb)
    for _ in range(attempts):
        state = read_state(conn, config, desired)
        plan = make_plan(desired, state, config)
        try:
            return apply(plan, conn, config, state=state)
        except ApplyError:
            continue
    raise AssertionError("did not converge")


def assert_exactly_truth(sb, desired):
    cids = [r["correlation_id"] for r in sb.store.query("cmdb_ci_business_app")]
    assert sorted(cids) == sorted(f"mdca:app:{a}" for a in desired.apps)  # no duplicate CI
    links = store_links(sb)
    assert [k for k, n in collections.Counter(links).items() if n > 1] == []  # no duplicate link
    assert sorted(links) == expected_pairs(desired)
    conn = connect(sb)
    assert make_plan(desired, read_state(conn, CONFIG, desired), CONFIG).is_empty


@pytest.mark.parametrize(
    "rule",
    [
        FaultRule(service="servicenow", path=BATCH, kind="drop", times=3),
        FaultRule(service="servicenow", path=BATCH, kind="status", status=503, times=3),
        FaultRule(service="servicenow", path=BATCH, kind="malformed", times=2),
        FaultRule(service="servicenow", kind="unserviced", probability=0.3),
    ],
    ids=["dropped-connection", "503", "malformed", "unserviced"],
)
def test_faults_on_batch_writes(sb, rule):
    desired = desired_from(tenant("tiny"))
    sb.faults.add(rule)
    result = converge(sb, desired)
    fired = sb.faults.fired(rule)
    sb.faults.clear()
    assert fired > 0
    if rule.kind != "unserviced":  # unserviced items are re-sent inside the Batch API call
        assert result.settled_by_reread + result.resent > 0
    assert_exactly_truth(sb, desired)


def test_timeout_on_batch_post_is_settled_by_reading(sb):
    desired = desired_from(tenant("tiny"))
    sb.faults.add(FaultRule(service="servicenow", path=BATCH, kind="slow", delay=1.5, times=2))
    result = converge(sb, desired, conn=connect(sb, timeout=(5.0, 0.5)))
    sb.faults.clear()
    assert result.settled_by_reread > 0
    assert_exactly_truth(sb, desired)


def test_batch_refused_falls_back_to_single_requests_with_post_timeouts(sb):
    desired = desired_from(tenant("tiny"))
    sb.faults.add(FaultRule(service="servicenow", path=BATCH, kind="status", status=400))
    sb.faults.add(
        FaultRule(
            service="servicenow",
            method="POST",
            path="/api/now/table/",
            kind="slow",
            delay=1.0,
            times=3,
        )
    )
    sb.faults.add(
        FaultRule(
            service="servicenow",
            method="POST",
            path="/api/now/table/",
            kind="drop",
            times=3,
            after=10,
        )
    )
    result = converge(sb, desired, conn=connect(sb, timeout=(5.0, 0.5)))
    sb.faults.clear()
    assert result.single_requests > 0
    assert result.settled_by_reread > 0
    assert_exactly_truth(sb, desired)


@pytest.mark.parametrize("sessions", [1, 4])
def test_process_killed_mid_apply_then_rerun_converges(sb, tmp_path, sessions):
    desired = desired_from(tenant("tiny"))
    conn = connect(sb)
    state = read_state(conn, CONFIG, desired)
    plan = make_plan(desired, state, CONFIG)
    assert plan.write_count > 100
    dump_plan(plan, tmp_path / "plan.json")
    store = RunStateStore(tmp_path / "job" / "cmdb-run-state.json")
    sb.faults.add(FaultRule(service="servicenow", path=BATCH, kind="latency", delay=0.3))
    mark = sb.request_log.mark()
    child = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("_apply_child.py")),
            sb.servicenow_url,
            str(sb.ca_file),
            sb.servicenow_username,
            sb.servicenow_password,
            str(tmp_path / "plan.json"),
            str(store.path),
            str(sessions),
        ]
    )
    try:
        deadline = time.monotonic() + 60
        while (
            sb.request_log.round_trips(path_prefix=BATCH, since=mark) < 2
            and time.monotonic() < deadline
        ):
            time.sleep(0.02)
    finally:
        child.kill()
        child.wait()
    sb.faults.clear()
    written = sb.request_log.writes(since=mark)
    assert 0 < written < plan.write_count  # killed part-way
    assert store.load().completed_runs == 0  # pending state saved, never committed
    result = converge(sb, desired)
    assert 0 < result.apps_created + result.links_added < plan.write_count
    assert_exactly_truth(sb, desired)
