"""Wall-clock speed at real-world latency: today's tree against the old main, side by side.

Run with ``python -m pytest -m benchmark -s benchmarks/test_wall_clock.py`` (or
``nox -s benchmarks``). Figures are printed, never asserted: wall time on a shared
machine is no pass/fail criterion; outcomes (what was written) are asserted.

``test_sync_against_old_main``
    Builds a git worktree of commit 5082c83 (the main before issue 14) in a temporary
    folder and runs the same sync job from it and from this tree, each in a fresh
    process (``PYTHONPATH`` picks the tree) against its own sandbox holding the
    ``medium`` tenant (``CISYNC_BENCH_SIZE`` overrides), with 150 ms added to every
    request of every service, the sandbox's ServiceNow session synchronisation and API
    pool of 4 on, and a generous Graph throttling policy (2,000 requests per second).
    Both trees use their default client settings. It prints, for a first sync and a
    no-op re-sync, the wall time and each phase's time, the requests per service
    (ServiceNow Batch API calls apart), the most ServiceNow requests the instance saw
    in flight (overall and per session cookie), and the old/new ratios. Both runs must
    leave the same CMDB.

``test_batch_size_at_latency``
    Apply alone (4 sessions, 150 ms per ServiceNow request) with 100, 250 and 500
    writes per Batch API call: wall time and calls.

``test_large_apply_cpu_and_memory``
    Apply alone on ``large`` with a progress callback, old tree and this tree, each in a
    fresh process on loopback: the client's CPU time and peak memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

# the child's own builder: one definition of the desired state both runs apply
from _apply_child import desired_from_truth

from cisync_lib.cmdb import CmdbConfig, apply, make_plan, read_state
from cisync_lib.sandbox import (
    SERVICE_NAMES,
    DefenderOptions,
    FaultRule,
    GraphThrottle,
    Sandbox,
    SandboxConfig,
    generate_tenant,
)
from cisync_lib.servicenow import BasicAuth, ServiceNowConnection

# a side-by-side run of the old main takes minutes: above the suite's 300 s per test
pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(7200)]

OLD = "5082c83"
LATENCY = 0.150
SIZE = os.environ.get("CISYNC_BENCH_SIZE", "medium")
ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
BATCH = "/api/now/v1/batch"


@pytest.fixture(scope="module")
def old_tree(tmp_path_factory):
    """A git worktree of the old main in a temporary folder (removed afterwards)."""
    where = tmp_path_factory.mktemp("old-main") / "tree"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), OLD],
        check=True,
        capture_output=True,
    )
    try:
        yield where
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(where)],
            check=False,
            capture_output=True,
        )


def _child(tree: Path, script: Path, *args: str, timeout: float = 3600) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, str(script), *args],
        env=env,
        cwd=str(tree),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"{script.name} failed in {tree}:\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(result["module"]).resolve().is_relative_to(tree.resolve()), result["module"]
    return result


#: a generous Graph policy: Graph's documented global limit of 2,000 requests per second
GENEROUS = GraphThrottle(requests=2000, period=1.0)


def _slow_sandbox(size: str, services=SERVICE_NAMES) -> Sandbox:
    defender = DefenderOptions(graph_throttle=GENEROUS)
    sb = Sandbox(SandboxConfig(size=size, seed=0, services=services, defender=defender)).start()
    for service in services:
        sb.faults.add(FaultRule(service=service, kind="latency", delay=LATENCY))
    return sb


def _cmdb(sb: Sandbox) -> tuple[list, list]:
    apps = sorted(
        (r["sys_id"], r["correlation_id"], r["operational_status"])
        for r in sb.store.query("cmdb_ci_business_app")
    )
    links = sorted((r["sys_id"], r["ci"], r["user"]) for r in sb.store.query("cmdb_rel_person"))
    return apps, links


def _sync_runs(label: str, tree: Path, work: Path) -> tuple[list[dict], tuple[list, list]]:
    sb = _slow_sandbox(SIZE)
    try:
        info = work / f"{label}-info.json"
        info.write_text(json.dumps(sb.connection_info()), "utf-8")
        folder = work / label
        runs = []
        for run in ("first sync", "no-op re-sync"):
            sb.servicenow_gate.reset_stats()
            mark = sb.request_log.mark()
            result = _child(tree, HERE / "_sync_child.py", str(info), str(folder), run)
            log = sb.request_log
            result["sn_calls"] = log.round_trips(service="servicenow", since=mark)
            result["sn_batches"] = log.round_trips(service="servicenow", path_prefix=BATCH,
                                                   since=mark)  # fmt: skip
            result["sn_writes"] = log.writes(service="servicenow", since=mark)
            result["graph_calls"] = log.round_trips(service="graph", since=mark)
            result["entra_calls"] = log.round_trips(service="entra", since=mark)
            result["gate"] = sb.servicenow_gate.stats
            assert result["outcome"] == "applied"
            runs.append(result)
            print(f"\n  [{label}] {run}: {result['wall']:.1f} s", flush=True)
        return runs, _cmdb(sb)
    finally:
        sb.close()


def _phases(result: dict) -> str:
    order = ("read", "correlate", "read_cmdb", "plan", "apply")
    return " ".join(f"{p} {result['timings'].get(p, 0.0):6.1f}" for p in order)


def test_sync_against_old_main(old_tree, tmp_path):
    """Prints wall time, phases, requests and in-flight counts; old/new ratios (target 6x)."""
    old_runs, old_cmdb = _sync_runs("old", old_tree, tmp_path)
    new_runs, new_cmdb = _sync_runs("new", ROOT, tmp_path)
    assert new_cmdb == old_cmdb  # the same CMDB, whichever code wrote it
    assert new_runs[1]["sn_writes"] == old_runs[1]["sn_writes"] == 0  # the re-sync is a no-op
    print(f"\n{SIZE} tenant, +{LATENCY * 1000:.0f} ms per request on every service")
    for old, new in zip(old_runs, new_runs, strict=True):
        print(f"\n  {old['label']}: old {old['wall']:6.1f} s, new {new['wall']:6.1f} s, "
              f"speed-up {old['wall'] / new['wall']:.1f}x")  # fmt: skip
        for name, r in (("old", old), ("new", new)):
            gate = r["gate"]
            print(
                f"    {name}: phases (s) {_phases(r)} | CPU {r['cpu']:5.1f} s | "
                f"graph {r['graph_calls']} + entra {r['entra_calls']} | ServiceNow "
                f"{r['sn_calls']} calls ({r['sn_batches']} Batch API, {r['sn_writes']} writes) | "
                f"in flight max {gate.max_requests}, per session {gate.max_requests_per_session}"
                f", session waits {gate.session_waits} | peak RSS {r['maxrss_kb'] // 1024} MB"
            )
        for name, r in (("old", old), ("new", new)):
            if r.get("read_stats"):
                print(f"    {name} Graph read: {r['read_stats']}")
    for r in new_runs:
        # the client never has more ServiceNow requests in flight than its sessions (4)
        assert r["gate"].max_requests <= 4
        assert r["gate"].max_requests_per_session == 1


def test_batch_size_at_latency():
    """Prints apply wall time and Batch API calls for 100, 250 and 500 writes per call."""
    print(f"\napply of a first sync, {SIZE}, 4 sessions, +{LATENCY * 1000:.0f} ms per request")
    for size in (100, 250, 500):
        sb = _slow_sandbox(SIZE, services=("servicenow",))
        try:
            desired = desired_from_truth(generate_tenant(SIZE, 0))
            config = CmdbConfig(batch_size=size)
            auth = BasicAuth(username=sb.servicenow_username, password=sb.servicenow_password)
            conn = ServiceNowConnection(
                sb.servicenow_url, auth=auth, verify=str(sb.ca_file), timeout=(10, 120)
            )
            state = read_state(conn, config, desired)
            plan = make_plan(desired, state, config)
            mark = sb.request_log.mark()
            started = time.perf_counter()
            apply(plan, conn, config, state=state)
            wall = time.perf_counter() - started
            calls = sb.request_log.round_trips(service="servicenow", path_prefix=BATCH, since=mark)
            assert sb.request_log.writes(since=mark) == plan.write_count
            print(f"  batch_size {size:3}: {plan.write_count} writes in {calls} calls, "
                  f"{wall:6.1f} s ({plan.write_count / wall:6.0f} writes/s)")  # fmt: skip
        finally:
            sb.close()


def test_large_apply_cpu_and_memory(old_tree):
    """Prints the client's apply CPU time and peak memory on ``large``, old and new."""
    size = os.environ.get("CISYNC_BENCH_LARGE", "large")
    figures = {}
    for label, tree in (("old", old_tree), ("new", ROOT)):
        sb = Sandbox(SandboxConfig(size=size, seed=0, services=("servicenow",))).start()
        try:
            info = {
                "url": sb.servicenow_url,
                "ca": str(sb.ca_file),
                "user": sb.servicenow_username,
                "password": sb.servicenow_password,
                "size": size,
            }
            figures[label] = _child(tree, HERE / "_apply_child.py", json.dumps(info))
        finally:
            sb.close()
    old, new = figures["old"], figures["new"]
    assert old["writes"] == new["writes"]
    print(f"\napply of a first sync, {size}: {new['writes']} writes")
    for label, r in figures.items():
        print(
            f"  {label}: apply CPU {r['apply_cpu']:6.1f} s, wall {r['apply_wall']:6.1f} s, "
            f"progress calls {r['progress_calls']}, peak RSS {r['maxrss_kb'] // 1024} MB"
        )
    print(f"  CPU old/new {old['apply_cpu'] / new['apply_cpu']:.2f}x, "
          f"peak memory new/old {new['maxrss_kb'] / old['maxrss_kb']:.2f}x")  # fmt: skip
