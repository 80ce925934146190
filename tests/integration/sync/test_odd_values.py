"""Field limits and odd values converge instead of wedging (issue 11, item 4).

The ServiceNow side is the real HTTPS sandbox (unmodified pysnc and requests); the
Defender side is the sandbox tenant read through Graph, saved as a snapshot, with odd
apps added by hand. Oracles: rows read straight from the sandbox store, the sandbox's
request log (records written), the run-state file on disk, and expectations written
by hand from the documented rule (docs/cmdb.md, "Field limits and odd values").
"""

from __future__ import annotations

import json

import attrs

from cisync_lib.defender import MergedApp, SnapshotSource, save_snapshot

from .conftest import PREFIX, expected_apps, make_job

HUGE_ID = "9" * 10_000  # int() of it hits Python's integer-conversion limit
LONG_NAME = "Long " + "x" * 295  # 300 characters; cmdb_ci.name holds 255
ODD = {
    "900001": LONG_NAME,
    "900002": "Bad\x00Name\x07\tTab",  # NUL, BEL, TAB
    "900003": " \x00\x1f ",  # nothing left once cleaned: refused
    "900004": "Same Name",
    "900005": "Same Name",
    "1234567": "Seven-character id",  # refused: correlation_id is said to hold 15
    HUGE_ID: "Huge id",
}


def _odd_snapshot(sandbox, folder, job):
    data = job.source.read(period=30, max_risk_score=10, include_users=True, include_devices=False)
    template = data.apps[0].app
    stream = data.apps[0].observations[0].stream_id
    extra = []
    for app_id, name in ODD.items():
        app = attrs.evolve(template, id=app_id, name=name, risk_score=5, stream_id=None)
        extra.append(MergedApp(app=app, observations=(attrs.evolve(app, stream_id=stream),)))
    # the long-named app gets a user, so its link must converge too
    users = dict(data.users)
    users["900001"] = data.users[data.apps[0].id]
    odd = attrs.evolve(data, apps=(*data.apps, *extra), users=users)
    path = folder / "odd-snapshot.json"
    save_snapshot(odd, path)
    return path


def _ours(store):
    return {
        r["correlation_id"][len(PREFIX) :]: r
        for r in store.query("cmdb_ci_business_app")
        if r.get("correlation_id", "").startswith(PREFIX)
    }


def test_odd_ids_and_names_converge_and_the_run_state_commits(tiny_sandbox, tmp_path):
    store, log = tiny_sandbox.store, tiny_sandbox.request_log
    # the destination's dictionary says correlation_id holds 24 characters: "mdca:app:" (9)
    # plus a 6-digit id fits, a 15-character id would not
    (entry,) = store.query("sys_dictionary", "name=cmdb_ci^element=correlation_id")
    store.update("sys_dictionary", entry["sys_id"], {"max_length": "15"})
    job = make_job(tiny_sandbox, tmp_path, allow_user_sync=True)
    snapshot = _odd_snapshot(tiny_sandbox, tmp_path, job)

    writes = []
    reports = []
    for _ in range(3):
        job = make_job(tiny_sandbox, tmp_path, allow_user_sync=True)
        job.source = SnapshotSource(snapshot)
        mark = log.mark()
        reports.append(job.run(dry_run=False))
        writes.append(log.writes(service="servicenow", since=mark))
    assert [r.outcome for r in reports] == ["applied"] * 3, [r.error for r in reports]
    assert writes[0] > 0
    assert writes[1] == 0
    assert writes[2] == 0
    state = json.loads((tmp_path / "state" / "sandbox--test" / "cmdb-run-state.json").read_text())
    assert state["completed_runs"] == 3
    assert state["field_limits"]["correlation_id"] == 15

    ours = _ours(store)
    # by hand from the rule: ids longer than 15 - 9 = 6 characters are refused, so are
    # empty names; the rest of the tenant syncs
    tenant_ids = expected_apps(tiny_sandbox.tenant)
    fitting = {a for a in tenant_ids if len(a) <= 6}
    assert set(ours) == fitting | {"900001", "900002", "900004", "900005"}
    assert HUGE_ID not in ours
    assert "1234567" not in ours
    assert "900003" not in ours
    assert ours["900001"]["name"] == LONG_NAME[:255]
    assert ours["900002"]["name"] == "Bad Name Tab"
    assert ours["900004"]["name"] == ours["900005"]["name"] == "Same Name"
    assert not any(ch < " " for row in ours.values() for ch in row["name"])
    # the long-named app's user link exists once
    links = [r for r in store.query("cmdb_rel_person") if r["ci"] == ours["900001"]["sys_id"]]
    assert len(links) == len({r["user"] for r in links}) >= 1

    warnings = " | ".join(reports[0].warnings)
    assert "is not a plausible Defender app id" in warnings
    assert "its name is empty" in warnings
    assert "correlation_id holds 15" in warnings
    assert "truncated to 255" in warnings
    assert "share the name 'Same Name'" in warnings
    assert "control characters removed" in warnings

    # a run that may not read sys_dictionary uses the lengths the run state saved
    from cisync_lib.sandbox import FaultRule

    tiny_sandbox.faults.add(
        FaultRule(service="servicenow", method="GET", path=r"/table/sys_dictionary", status=403)
    )
    job = make_job(tiny_sandbox, tmp_path, allow_user_sync=True)
    job.source = SnapshotSource(snapshot)
    mark = log.mark()
    fourth = job.run(dry_run=False)
    tiny_sandbox.faults.clear()
    assert fourth.outcome == "applied", fourth.error
    assert log.writes(service="servicenow", since=mark) == 0
    assert (
        log.round_trips(
            service="servicenow", path_prefix="/api/now/table/sys_dictionary", since=mark
        )
        >= 1
    )
    assert "1234567" not in _ours(store)
    assert any("using those saved by an earlier run" in w for w in fourth.warnings)
