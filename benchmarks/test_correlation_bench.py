"""Correlation at scale through the HTTPS sandbox: 100,000 identifiers against 100,000 users.

Run: ``python -m pytest -m benchmark -s benchmarks/test_correlation_bench.py``.
Prints request counts, CPU time and peak memory, next to baselines measured in
the same run (parsing alone, the in-memory resolution, one request per name).
"""

import hashlib
import math
import time
import tracemalloc

import pytest

from cisync_lib.correlation import (
    Correlator,
    CorrelatorConfig,
    InMemoryUserDirectory,
    ServiceNowUserDirectory,
    Status,
)
from cisync_lib.correlation._parse import parse
from cisync_lib.sandbox import Sandbox, SandboxConfig
from cisync_lib.servicenow import BasicAuth, ServiceNowConnection

# large runs on a shared machine: above the suite-wide 300 s timeout
pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(1800)]

N_USERS = 100_000
N_NAMES = 100_000
PAGE_SIZE = 1000
CONFIG = CorrelatorConfig(
    domain_aliases={"contoso.onmicrosoft.com": "contoso.com"},
    netbios_domains={"CONTOSO": {"upn_suffix": "contoso.com"}},
)


def sid(i):
    return hashlib.md5(f"user{i}".encode()).hexdigest()


def make_names():
    """100,000 distinct identifiers with a known answer: which user index, or None."""
    names, expected = [], {}
    for i in range(N_NAMES):
        kind = i % 10
        if kind < 6:
            raw = f"First{i}.Last@Contoso.com"  # email, other case
        elif kind == 6:
            raw = f"first{i}.last@contoso.onmicrosoft.com"  # address in the tenant domain
        elif kind == 7:
            raw = f"CONTOSO\\u{i}"  # down-level
        elif kind == 8:
            raw = f"nobody{i}@partner.example"  # no such user
        else:
            raw = f"u{i}\\DESKTOP-{i:06d}"  # local logon
        names.append(raw)
        expected[raw] = i if kind < 8 else None
    return names, expected


@pytest.fixture(scope="module")
def loaded():
    with Sandbox(SandboxConfig()) as sb:
        started = time.perf_counter()
        for i in range(N_USERS):
            # written straight into the store, not through the API
            sb.store.insert(
                "sys_user",
                {
                    "sys_id": sid(i),
                    "user_name": f"u{i}",
                    "email": f"first{i}.last@contoso.com",
                    "active": i % 20 != 0,
                },
            )
        print(f"\nloaded {N_USERS} sys_user rows in {time.perf_counter() - started:.1f} s")
        conn = ServiceNowConnection(
            sb.servicenow_url,
            auth=BasicAuth(username=sb.servicenow_username, password=sb.servicenow_password),
            verify=str(sb.ca_file),
            page_size=PAGE_SIZE,
        )
        yield sb, conn


def check(results, expected):
    wrong = 0
    for r in results:
        want = expected[r.input.raw]
        got = r.user.sys_id if r.status is Status.MATCHED else None
        wrong += got != (sid(want) if want is not None else None)
    return wrong


def test_snapshot_mode_100k(loaded):
    """Snapshot mode: requests within the page count plus a constant; CPU time; peak memory."""
    sb, conn = loaded
    names, expected = make_names()
    correlator = Correlator(CONFIG)

    cpu = time.process_time()
    for name in names:
        parse(name, CONFIG)
    parse_cpu = time.process_time() - cpu

    sb.request_log.clear()
    before = conn.request_count
    wall, cpu = time.perf_counter(), time.process_time()
    directory = ServiceNowUserDirectory(conn)
    results = correlator.resolve(names, directory)
    total_cpu = time.process_time() - cpu
    total_wall = time.perf_counter() - wall
    requests = conn.request_count - before
    round_trips = sb.request_log.round_trips(service="servicenow")
    pages = math.ceil(N_USERS / PAGE_SIZE)

    users = InMemoryUserDirectory(
        [r.user for r in results if r.user is not None], server_like=True
    )  # baseline: resolution alone, no HTTP
    cpu = time.process_time()
    correlator.resolve(names, users)
    memory_cpu = time.process_time() - cpu

    tracemalloc.start()
    correlator.resolve(names, ServiceNowUserDirectory(conn))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    wrong = check(results, expected)
    print(f"snapshot mode: {N_NAMES} identifiers vs {N_USERS} users")
    print(
        f"  requests {requests} (snapshot pages {pages}; one request per name would be {N_NAMES})"
    )
    print(f"  sandbox request log: {round_trips} round trips")
    print(f"  resolve through HTTPS: {total_wall:.1f} s wall, {total_cpu:.1f} s CPU")
    print("    (the CPU time includes the in-process sandbox serving the pages)")
    print(f"  baseline, same names: parse only {parse_cpu:.2f} s CPU,")
    print(f"    in-memory resolve (no HTTP) {memory_cpu:.2f} s CPU")
    print(f"  peak traced memory {peak / 2**20:.0f} MiB; wrong answers {wrong}")
    assert requests <= pages + 2
    assert round_trips == requests
    assert wrong == 0


def test_keyed_mode_500(loaded):
    """Keyed mode: 500 identifiers, chunked IN queries."""
    _, conn = loaded
    names, expected = make_names()
    few = names[:500]
    before = conn.request_count
    cpu = time.process_time()
    results = Correlator(CONFIG).resolve(few, ServiceNowUserDirectory(conn))
    used = time.process_time() - cpu
    requests = conn.request_count - before
    distinct_values = len(Correlator(CONFIG).plan(few).request.keys)
    bound = math.ceil(distinct_values / CONFIG.chunk_size) * 2
    print(f"keyed mode: {len(few)} identifiers, {distinct_values} lookup keys")
    snapshot_pages = math.ceil(N_USERS / PAGE_SIZE)
    print(f"  requests {requests} (bound ceil(keys/{CONFIG.chunk_size}) x 2 = {bound})")
    print(f"  a snapshot would take {snapshot_pages} requests")
    print(f"  {used:.2f} s CPU")
    assert requests <= bound
    assert check(results, {n: expected[n] for n in few}) == 0
