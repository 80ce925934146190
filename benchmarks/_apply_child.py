"""Apply a first sync of a generated tenant in a fresh process; prints CPU, memory, writes as JSON.

Run by ``benchmarks/test_wall_clock.py`` with ``PYTHONPATH`` pointing at the tree under
test, so it uses only the API the old main and this tree share.

Usage: ``python _apply_child.py '{"url", "ca", "user", "password", "size"}'`` (a JSON object)
"""

import json
import resource
import sys
import time

import cisync_lib
from cisync_lib.cmdb import CmdbConfig, DesiredState, apply, make_plan, read_state
from cisync_lib.sandbox import generate_tenant
from cisync_lib.servicenow import BasicAuth, ServiceNowConnection


def desired_from_truth(tenant):
    """The desired state the tenant's ground truth calls for (configured chain, user sync on)."""
    apps, links = [], {}
    for stream in tenant.streams:
        if stream.is_snapshot:
            continue
        for app in tenant.apps("P30D", stream.id):
            apps.append(app)
            for ident in tenant.users("P30D", stream.id, app.id):
                truth = tenant.truth.get(ident)
                if truth is not None and truth.configured.sys_id:
                    links.setdefault(app.id, set()).add(truth.configured.sys_id)
    return DesiredState.build(apps, tenant.app_info, links, allow_user_sync=True)


def main(raw: str) -> None:
    info = json.loads(raw)
    desired = desired_from_truth(generate_tenant(info["size"], 0))
    auth = BasicAuth(username=info["user"], password=info["password"])
    conn = ServiceNowConnection(info["url"], auth=auth, verify=info["ca"], timeout=(10, 300))
    config = CmdbConfig()
    state = read_state(conn, config, desired)
    plan = make_plan(desired, state, config)
    calls = []
    cpu, wall = time.process_time(), time.perf_counter()
    result = apply(plan, conn, config, state=state, progress=lambda p: calls.append(p.done))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        json.dumps(
            {
                "module": cisync_lib.__file__,
                "writes": result.apps_created + result.links_added + result.vendors_created,
                "apply_cpu": cpu,
                "apply_wall": wall,
                "progress_calls": len(calls),
                "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
