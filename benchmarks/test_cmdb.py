"""CMDB writer round trips against their lower bound and a naive per-record pysnc loop.

Run with ``python -m pytest -m benchmark -s benchmarks/test_cmdb.py``. For small, medium and
large generated tenants it prints, for a first sync and a second (steady) sync:

* our read and write round trips (from the sandbox's request log),
* the lower bound: pages needed to read the relevant rows once (and the column lengths, read
  from ``sys_dictionary`` once per run) + the write batches, ceil(writes / batch size) for each
  step that needs the sys_ids of the one before (vendors, then the CIs that name them, then the
  links to those CIs),
* a naive loop with pysnc (one GET per record, then one POST when missing), run in the same
  benchmark on a fresh instance (fully for small; on a sample for medium and large, its
  per-record cost extrapolated: it is exactly one or two requests per record).

Then the plan's CPU time and peak memory for 1,000,000 links (in a fresh process).
Targets (issue 7): within 1.1x of the bound, >= 20x fewer round trips than naive,
planning 1M links under 10 s and 2 GB.
"""

import json
import math
import subprocess
import sys
from pathlib import Path

import pysnc
import pytest
import requests

from cisync_lib.cmdb import CmdbConfig, DesiredState, apply, make_plan, read_state
from cisync_lib.sandbox import Sandbox, SandboxConfig
from cisync_lib.servicenow import BasicAuth, ServiceNowConnection

pytestmark = pytest.mark.benchmark

SIZES = ("small", "medium", "large")
NAIVE_SAMPLE = 1500  # links the naive loop writes on medium and large
CONFIG = CmdbConfig()
BATCH = "/api/now/v1/batch"


def _desired(t):
    apps, links = [], {}
    for stream in t.streams:
        if stream.is_snapshot:
            continue
        for app in t.apps("P30D", stream.id):
            apps.append(app)
            for ident in t.users("P30D", stream.id, app.id):
                truth = t.truth.get(ident)
                if truth is not None and truth.configured.sys_id:
                    links.setdefault(app.id, set()).add(truth.configured.sys_id)
    return DesiredState.build(apps, t.app_info, links, allow_user_sync=True)


def _connect(sb):
    auth = BasicAuth(username=sb.servicenow_username, password=sb.servicenow_password)
    return ServiceNowConnection(
        sb.servicenow_url, auth=auth, verify=str(sb.ca_file), timeout=(10, 120)
    )


def _pages(n, page):
    return max(1, math.ceil(n / page))


def _bound(sb, desired, plan, page):
    """Pages to read the rows our plan depends on, once each, plus the write batches.

    A CI insert names its vendor's sys_id and a link its CI's, which the instance
    assigns on insert: the three steps cannot share a batch.
    """
    store = sb.store
    app_rows = store.count(
        CONFIG.app_class, "correlation_idSTARTSWITHmdca:app:^ORcorrelation_idISEMPTY"
    )
    rel = store.query(CONFIG.rel_type_table, "name=Used by")[0]["sys_id"]
    reads = (
        _pages(
            store.count(
                "sys_choice",
                "nameINcmdb_ci_business_app,cmdb_ci^elementINapplication_type,install_type,operational_status,discovery_source",
            ),
            page,
        )
        + 1  # the relationship type
        + _pages(app_rows, page)
        + (1 if any(a.vendor for a in desired.apps.values()) else 0)
        + _pages(store.count(CONFIG.link_table, f"type={rel}"), page)
        + 1  # the column lengths (sys_dictionary, one query for every field written)
    )
    steps = (
        len(plan.vendors),
        len(plan.creates) + len(plan.updates) + len(plan.retires),
        len(plan.add_links) + len(plan.remove_links),
    )
    return reads, sum(math.ceil(n / CONFIG.batch_size) for n in steps)


def _ours(sb, desired):
    conn = _connect(sb)
    mark = sb.request_log.mark()
    state = read_state(conn, CONFIG, desired)
    plan = make_plan(desired, state, CONFIG)
    bound = _bound(sb, desired, plan, conn.page_size)  # rows as they were read
    apply(plan, conn, CONFIG, state=state)
    log = sb.request_log.since(mark)
    reads = sum(1 for r in log if r.method == "GET")
    writes = sum(1 for r in log if r.method != "GET")
    return plan.write_count, reads, writes, bound


def _naive(sb, desired, limit=None):
    """Per record: query it with a new GlideRecord, insert it when missing. Returns
    (records handled, round trips)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(sb.ca_file)
    session.auth = (sb.servicenow_username, sb.servicenow_password)
    client = pysnc.ServiceNowClient(sb.servicenow_url, auth=session, auto_retry=False)
    rel = sb.store.query(CONFIG.rel_type_table, "name=Used by")[0]["sys_id"]
    mark = sb.request_log.mark()
    handled = 0
    ci_of = {}
    for app_id, app in sorted(desired.apps.items()):
        gr = client.GlideRecord(CONFIG.app_class)
        gr.add_query("correlation_id", f"mdca:app:{app_id}")
        gr.query()
        if gr.next():
            ci_of[app_id] = str(gr.sys_id)
        else:
            new = client.GlideRecord(CONFIG.app_class)
            new.initialize()
            for k, v in {"name": app.name, "short_description": app.description,
                         "correlation_id": f"mdca:app:{app_id}"}.items():  # fmt: skip
                new.set_value(k, v)
            ci_of[app_id] = str(new.insert())
        handled += 1
    links = [(a, u) for a, users in sorted(desired.links.items()) for u in sorted(users)]
    for app_id, user in links[:limit]:
        gr = client.GlideRecord(CONFIG.link_table)
        gr.add_query("ci", ci_of[app_id])
        gr.add_query("user", user)
        gr.add_query("type", rel)
        gr.query()
        if not gr.next():
            new = client.GlideRecord(CONFIG.link_table)
            new.initialize()
            for k, v in {"ci": ci_of[app_id], "user": user, "type": rel}.items():
                new.set_value(k, v)
            new.insert()
        handled += 1
    return handled, len(sb.request_log.since(mark)), len(desired.apps) + len(links)


def test_round_trips_against_bound_and_naive():
    rows = []
    for size in SIZES:
        with Sandbox(SandboxConfig(size=size)) as sb:
            desired = _desired(sb.tenant)
            first = _ours(sb, desired)
            second = _ours(sb, desired)
        limit = None if size == "small" else NAIVE_SAMPLE
        with Sandbox(SandboxConfig(size=size)) as naive_sb:
            handled, trips, total = _naive(naive_sb, desired, limit)
            per_record = trips / handled
            naive_first = round(per_record * total)
            _, trips2, _ = _naive(naive_sb, desired, limit)  # steady: everything exists
            naive_second = round(trips2 / handled * total)
        rows.append((size, total, first, second, naive_first, naive_second, handled < total))

    print()
    print(f"{'tenant':8} {'run':6} {'writes':>7} {'reads':>6} {'w-req':>6} {'bound':>6} "
          f"{'x bound':>8} {'naive':>8} {'naive/ours':>10}")  # fmt: skip
    for size, _total, first, second, n1, n2, sampled in rows:
        for run, (writes, reads, wreq, (rb, wb)), naive in (
            ("first", first, n1),
            ("second", second, n2),
        ):
            ours = reads + wreq
            bound = rb + wb
            mark = "*" if sampled else ""
            print(f"{size:8} {run:6} {writes:7d} {reads:6d} {wreq:6d} {bound:6d} "
                  f"{ours / bound:8.3f} {naive:7d}{mark:1} {naive / ours:10.1f}")  # fmt: skip
            assert ours <= 1.1 * bound
            assert naive >= 20 * ours
    print("* naive measured on a sample of the links and extrapolated per record")


def test_plan_cpu_and_memory_for_a_million_links():
    script = Path(__file__).with_name("_cmdb_plan_1m.py")
    results = []
    for mode in ("initial", "steady"):
        out = subprocess.run(
            [sys.executable, str(script), mode], capture_output=True, text=True, check=True
        )
        results.append(json.loads(out.stdout))
    print()
    for r in results:
        print(f"plan 1M links ({r['mode']}): {r['plan_cpu_s']} s CPU, peak {r['peak_mb']} MB "
              f"(baseline: building the inputs took {r['build_cpu_s']} s, "
              f"{r['build_peak_mb']} MB); "
              f"{r['adds']} adds, {r['pending']} pending removals")  # fmt: skip
        assert r["plan_cpu_s"] < 10
        assert r["peak_mb"] < 2048
