"""Inputs and oracles from a generated tenant's ground truth (never from our correlator)."""

from collections import defaultdict
from functools import lru_cache

from cisync_lib.cmdb import CmdbConfig, DesiredState
from cisync_lib.sandbox._tenant import generate_tenant
from cisync_lib.servicenow import BasicAuth, ServiceNowConnection

PERIOD = "P30D"
DEFAULT = CmdbConfig()


@lru_cache(maxsize=4)
def tenant(size="tiny", seed=0):
    return generate_tenant(size=size, seed=seed)


def truth_inputs(t, period=PERIOD):
    """Apps seen in the synced (non-snapshot) streams, and the (app, sys_user) pairs the
    tenant's ground truth says the configured correlation resolves."""
    apps = []
    links = defaultdict(set)
    for stream in t.streams:
        if stream.is_snapshot:
            continue
        for app in t.apps(period, stream.id):
            apps.append(app)
            for ident in t.users(period, stream.id, app.id):
                truth = t.truth.get(ident)
                if truth is not None and truth.configured.sys_id:
                    links[app.id].add(truth.configured.sys_id)
    return apps, dict(t.app_info), {k: frozenset(v) for k, v in links.items()}


def desired_from(t, *, links=True, **kw):
    apps, info, pairs = truth_inputs(t)
    kw.setdefault("allow_user_sync", True)
    return DesiredState.build(apps, info, pairs if links else None, **kw)


def connect(sb, **kw):
    kw.setdefault("timeout", (5.0, 5.0))
    kw.setdefault("backoff", 0.0)
    auth = BasicAuth(username=sb.servicenow_username, password=sb.servicenow_password)
    return ServiceNowConnection(sb.servicenow_url, auth=auth, verify=str(sb.ca_file), **kw)


def store_apps(sb, config=DEFAULT):
    """correlation_id -> row, read straight from the sandbox store."""
    rows = sb.store.query(config.app_class, f"correlation_idSTARTSWITH{config.correlation_prefix}")
    return {r["correlation_id"]: r for r in rows}


def store_links(sb, config=DEFAULT):
    """(correlation_id of the app, user sys_id) for every 'Used by' row on our apps, as a list
    (duplicates show up twice)."""
    rel = sb.store.query(config.rel_type_table, f"name={config.rel_type_name}")[0]["sys_id"]
    ci_to_cid = {r["sys_id"]: cid for cid, r in store_apps(sb, config).items()}
    rows = sb.store.query(config.link_table, f"type={rel}")
    return [(ci_to_cid[r["ci"]], r["user"]) for r in rows if r["ci"] in ci_to_cid]


def expected_pairs(desired, config=DEFAULT):
    return sorted(
        (config.correlation_prefix + app_id, user)
        for app_id, users in desired.links.items()
        for user in users
    )
