"""An in-memory stand-in for an instance, for planner unit tests (no HTTP).

``apply_in_memory`` is an independent, deliberately simple interpretation of a
plan's actions, used to check that planning is idempotent.
"""

from datetime import datetime, timezone

import attrs

from cisync_lib import AppInfo, DiscoveredApp
from cisync_lib.cmdb import CurrentState, DesiredState
from cisync_lib.cmdb._state import AppRow, LinkRow, ReadScope

NOW = datetime(2026, 11, 27, 10, 0, 0, tzinfo=timezone.utc)
TYPE = "t" * 32
ME = "cisync.integration"
CHOICES = {
    "application_type": {"SaaS": "saas", "Homegrown": "homegrown"},
    "install_type": {"Cloud": "cloud", "On Premise": "on_premise"},
    "operational_status": {"Operational": "1", "Retired": "6", "Pilot": "4"},
}


def app(i, *, risk=8, name=None, tags=()):
    return DiscoveredApp(id=str(i), name=name or f"App {i}", risk_score=risk, tags=tags)


def info(vendor="Acme"):
    return AppInfo(
        vendor=vendor, headquarters="Oslo", founded=1999, flags={"is_soc2_compliant": True}
    )


def user(n):
    return f"{n:032x}"


def desired(apps, links=None, **kw):
    kw.setdefault("allow_user_sync", True)
    return DesiredState.build(apps, {a.id: info() for a in apps}, links, **kw)


def state(apps=(), links=(), *, rel_type=TYPE, vendors=None, links_read=True):
    return CurrentState(
        apps=tuple(apps),
        links=tuple(links),
        links_read=links_read,
        choices=CHOICES,
        rel_type=rel_type,
        vendors={"Acme": "v" * 32} if vendors is None else vendors,
        integration_user=ME,
        read_at=NOW,
        scope=ReadScope(),
    )


def apply_in_memory(plan, st):
    """The state an instance would hold after the plan, with rows created by ME."""
    apps = {a.sys_id: a for a in st.apps}
    vendors = dict(st.vendors)
    for v in plan.vendors:
        vendors[v.name] = v.sys_id
    for c in plan.creates:
        values = {k: v for k, v in c.values.items() if k not in ("correlation_id", "name")}
        apps[c.sys_id] = AppRow(
            sys_id=c.sys_id,
            correlation_id=c.values["correlation_id"],
            name=c.values["name"],
            values=values,
        )
    for u in (*plan.updates, *plan.retires):
        row = apps[u.sys_id]
        values = dict(row.values)
        cid, name = row.correlation_id, row.name
        for ch in u.changes:
            if ch.field == "correlation_id":
                cid = ch.new
            elif ch.field == "name":
                name = ch.new
            else:
                values[ch.field] = ch.new
        apps[u.sys_id] = attrs.evolve(row, correlation_id=cid, name=name, values=values)
    links = {link.sys_id: link for link in st.links}
    for r in plan.remove_links:
        del links[r.sys_id]
    for n, a in enumerate(plan.add_links):
        sid = f"{a.ci[:16]}{a.user[:12]}{n:04x}"
        links[sid] = LinkRow(sys_id=sid, ci=a.ci, user=a.user, created_by=ME)
    return attrs.evolve(st, apps=tuple(apps.values()), links=tuple(links.values()), vendors=vendors)
