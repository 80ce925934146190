"""Acceptance on a generated medium tenant: one apply makes the instance equal the ground truth."""

import collections

import pytest

from cisync_lib import make_converter
from cisync_lib.cmdb import CmdbConfig, apply, make_plan, read_state, render_plan
from cisync_lib.sandbox import SandboxConfig

from .tenant import (
    connect,
    desired_from,
    expected_pairs,
    store_apps,
    store_links,
    tenant,
)

WIRE = make_converter()


def _choice(sb, element, label):
    rows = sb.store.query("sys_choice", f"element={element}^label={label}")
    return rows[0]["value"]


@pytest.mark.slow
def test_medium_tenant_equals_truth_and_second_run_writes_nothing(cisync_sandbox_factory):
    t = tenant("medium")
    sb = cisync_sandbox_factory(SandboxConfig(size="medium"))
    config = CmdbConfig()
    desired = desired_from(t)
    progress = []
    conn = connect(sb, timeout=(10.0, 60.0))
    state = read_state(conn, config, desired)
    plan = make_plan(desired, state, config)
    result = apply(plan, conn, config, state=state, progress=progress.append)
    assert progress[-1].done == progress[-1].total == plan.write_count

    # apps: exactly one CI per app, with the right fields (read straight from the store)
    apps = store_apps(sb)
    assert sorted(apps) == sorted(f"mdca:app:{a}" for a in desired.apps)
    assert sb.store.count("cmdb_ci_business_app") == len(desired.apps)
    info = t.app_info
    for cid, row in apps.items():
        app_id = cid.removeprefix("mdca:app:")
        names = {a.name for s in t.streams for a in t.apps("P30D", s.id) if a.id == app_id}
        assert row["name"] in names
        assert row["application_type"] == _choice(sb, "application_type", "SaaS")
        assert row["install_type"] == _choice(sb, "install_type", "Cloud")
        assert row["operational_status"] == "1"
        assert row["discovery_source"] == "MSDefenderCloudApps"
        assert row["first_discovered"]
        assert row["last_discovered"] == row["first_discovered"]
        # the Description block: sorted "key: value" lines of the catalogue facts, cut to
        # the column's 1000 characters at a line boundary
        facts = {
            k: str(v) for k, v in WIRE.unstructure(info[app_id]).items() if v not in (None, "")
        }
        lines = row["short_description"].split("\n")
        assert len(row["short_description"]) <= 1000
        assert [line.split(": ", 1)[0] for line in lines] == sorted(facts)[: len(lines)]
        assert all(facts[k] == v for k, v in (line.split(": ", 1) for line in lines))
        assert len(lines) >= 10

    # links: exactly the (app, user) pairs of the ground truth, no duplicates
    links = store_links(sb)
    assert not [k for k, n in collections.Counter(links).items() if n > 1]
    assert sorted(links) == expected_pairs(desired)
    assert result.links_added == len(links)

    # second run: an empty plan and not a single write request
    mark = sb.request_log.mark()
    state = read_state(conn, config, desired)
    again = make_plan(desired, state, config)
    assert again.is_empty, render_plan(again)
    apply(again, conn, config, state=state)
    assert sb.request_log.writes(since=mark) == 0
    writes = [r for r in sb.request_log.since(mark) if r.method != "GET"]
    assert writes == []
