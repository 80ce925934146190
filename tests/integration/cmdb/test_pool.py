"""Apply through a pool of ServiceNow sessions: same result, same request count, never too many
requests in flight, and crash safety under faults.

Oracles: the tenant's ground truth, the sandbox store read directly, and the sandbox's
gate (which sees every request arrive, per session cookie).
"""

import math

import pytest

from cisync_lib.cmdb import ApplyProgress, CmdbConfig, apply, make_plan, read_state
from cisync_lib.sandbox import FaultRule, SandboxConfig

from .tenant import connect, desired_from, tenant
from .test_safety import assert_exactly_truth, converge

BATCH = "/api/now/v1/batch"
CONFIG = CmdbConfig(batch_size=25)
SN_ONLY = SandboxConfig(size="tiny", services=("servicenow",))


def _snapshot(sb):
    """What the CMDB holds, from the store: every app, link and vendor with its key fields."""
    apps = sorted(
        (r["sys_id"], r["correlation_id"], r["name"], r["operational_status"])
        for r in sb.store.query("cmdb_ci_business_app")
    )
    links = sorted((r["sys_id"], r["ci"], r["user"], r["type"]) for r in sb.store.query(
        "cmdb_rel_person"))  # fmt: skip
    vendors = sorted((r["sys_id"], r["name"]) for r in sb.store.query("core_company"))
    return apps, links, vendors


def test_pool_apply_stays_within_its_sessions_at_the_serial_request_count(
    cisync_sandbox_factory,
):
    sb = cisync_sandbox_factory(SN_ONLY)
    desired = desired_from(tenant("tiny"))
    # a little latency so that the calls overlap
    sb.faults.add(FaultRule(service="servicenow", path=BATCH, kind="latency", delay=0.05))
    conn = connect(sb, sessions=4)
    state = read_state(conn, CONFIG, desired)
    plan = make_plan(desired, state, CONFIG)
    seen: list[ApplyProgress] = []
    sb.servicenow_gate.reset_stats()
    mark = sb.request_log.mark()
    result = apply(plan, conn, CONFIG, state=state, progress=seen.append)
    stats = sb.servicenow_gate.stats
    batches = math.ceil(plan.write_count / CONFIG.batch_size)
    assert stats.max_requests <= 4  # never more in flight than sessions
    assert stats.max_requests > 1  # and the calls did overlap
    assert stats.max_requests_per_session == 1
    assert stats.session_waits == 0
    # the same calls a single session makes: one Batch API call per batch_size writes
    assert sb.request_log.round_trips(path_prefix=BATCH, since=mark) == batches
    assert result.write_requests == batches
    assert sb.request_log.writes(since=mark) == plan.write_count
    writes = [p for p in seen if p.phase == "write"]
    counts = [p.done for p in writes]
    assert len(writes) >= batches  # the count moves after every call, not only at the end
    assert counts == sorted(counts)  # never goes back
    assert counts[0] > 0
    assert counts[-1] == plan.write_count == writes[-1].total
    assert_exactly_truth(sb, desired)


def test_pool_under_20_percent_faults_ends_as_a_fault_free_run(cisync_sandbox_factory):
    desired = desired_from(tenant("tiny"))
    clean = cisync_sandbox_factory(SN_ONLY)
    converge(clean, desired, conn=connect(clean, sessions=4))
    faulty = cisync_sandbox_factory(SN_ONLY.evolve(seed=7))
    rules = [
        FaultRule(service="servicenow", kind="status", status=429, retry_after=1, probability=0.07),
        FaultRule(service="servicenow", kind="status", status=503, probability=0.07),
        FaultRule(service="servicenow", kind="drop", probability=0.07),
    ]
    for rule in rules:
        faulty.faults.add(rule)
    result = converge(faulty, desired, conn=connect(faulty, sessions=4), attempts=6)
    fired = [faulty.faults.fired(rule) for rule in rules]
    print("faults fired (429, 503, drop):", fired, "resent:", result.resent)
    faulty.faults.clear()
    assert all(n > 0 for n in fired)  # every kind of fault hit the run
    assert faulty.servicenow_gate.stats.max_requests_per_session == 1
    assert _snapshot(faulty) == _snapshot(clean)  # the oracle: the clean run's store
    assert_exactly_truth(faulty, desired)  # and the tenant's truth: no duplicates


@pytest.mark.parametrize("batch_size", [7, 100])
def test_pool_with_more_sessions_than_calls(cisync_sandbox_factory, batch_size):
    sb = cisync_sandbox_factory(SN_ONLY)
    desired = desired_from(tenant("tiny"))
    config = CmdbConfig(batch_size=batch_size)
    conn = connect(sb, sessions=8)
    state = read_state(conn, config, desired)
    plan = make_plan(desired, state, config)
    result = apply(plan, conn, config, state=state)
    assert result.write_requests == math.ceil(plan.write_count / batch_size)
    assert_exactly_truth(sb, desired)
