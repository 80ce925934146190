"""Build 1,000,000 links worth of desired and current state, then time make_plan (run as a script).

Prints one JSON line: the time and peak memory of building the inputs (the baseline) and of
planning (fingerprint included), measured in this fresh process.
"""

import json
import resource
import sys
import time
from datetime import datetime, timezone

from cisync_lib.cmdb import CurrentState, DesiredState, make_plan
from cisync_lib.cmdb._desired import DesiredApp
from cisync_lib.cmdb._state import AppRow, LinkRow

NOW = datetime(2026, 11, 27, tzinfo=timezone.utc)
CHOICES = {
    "application_type": {"SaaS": "saas"},
    "install_type": {"Cloud": "cloud"},
    "operational_status": {"Operational": "1", "Retired": "6"},
}


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(n_apps, per_app):
    started = time.process_time()
    apps, desired_apps, links, rows = [], {}, {}, []
    users = [f"{u:032x}" for u in range(per_app * 4)]
    for a in range(n_apps):
        app_id = str(100000 + a)
        ci = f"{a:032x}"
        name = f"App {a}"
        desc = f"vendor: Vendor {a}\nheadquarters: Oslo"
        values = {"short_description": desc, "application_type": "saas", "install_type": "cloud",
                  "discovery_source": "MSDefenderCloudApps", "operational_status": "1",
                  "last_discovered": "2026-11-27 00:00:00"}  # fmt: skip
        apps.append(
            AppRow(sys_id=ci, correlation_id=f"mdca:app:{app_id}", name=name, values=values)
        )
        desired_apps[app_id] = DesiredApp(app_id=app_id, name=name, description=desc)
        mine = users[a % 4 * per_app : a % 4 * per_app + per_app]
        # 1% of each app's links change: one user leaves, another arrives
        links[app_id] = frozenset([*mine[1:], users[(a % 4 * per_app + per_app) % len(users)]])
        for u, user in enumerate(mine):
            rows.append(LinkRow(sys_id=f"{a:016x}{u:016x}", ci=ci, user=user, created_by="me"))
    desired = DesiredState(apps=desired_apps, links=links, sync_users=True,
                           source_app_count=n_apps, source_user_count=n_apps * per_app)  # fmt: skip
    state = CurrentState(apps=tuple(apps), links=tuple(rows), choices=CHOICES, rel_type="t" * 32,
                         integration_user="me", read_at=NOW)  # fmt: skip
    return desired, state, time.process_time() - started


def main(mode="steady", n_apps=10_000, per_app=100):
    desired, state, build_cpu = build(n_apps, per_app)
    if mode == "initial":  # nothing linked yet: a million links to add
        state = CurrentState(apps=state.apps, choices=CHOICES, rel_type="t" * 32,
                             integration_user="me", read_at=NOW)  # fmt: skip
    baseline_rss = rss_mb()
    started = time.process_time()
    plan = make_plan(desired, state, now=NOW)
    plan_cpu = time.process_time() - started
    print(json.dumps({
        "mode": mode, "links": len(state.links), "desired": sum(map(len, desired.links.values())),
        "adds": len(plan.add_links), "pending": len(plan.pending),
        "build_cpu_s": round(build_cpu, 2), "build_peak_mb": round(baseline_rss),
        "plan_cpu_s": round(plan_cpu, 2), "peak_mb": round(rss_mb()),
    }))  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:]))
