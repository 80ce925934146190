"""Links the integration did not create are never deleted, duplicates included (issue 11, item 5).

Oracle: the sandbox store, read directly; the hand-made rows are identified by the
sys_ids the test inserted, never by anything the library reports.
"""

from __future__ import annotations

from .conftest import make_job, stored_apps


def _links(store):
    return {r["sys_id"]: r for r in store.query("cmdb_rel_person")}


def test_hand_made_duplicate_links_survive_every_run(tiny_sandbox, tmp_path):
    store = tiny_sandbox.store
    first = make_job(tiny_sandbox, tmp_path, allow_user_sync=True, grace_runs=0).run(dry_run=False)
    assert first.outcome == "applied"
    managed = {row["sys_id"] for row in stored_apps(store).values()}
    ours = [r for r in _links(store).values() if r["ci"] in managed]
    assert len(ours) >= 2
    a, b = ours[0], ours[1]
    hand_made = set()
    for row, who in ((a, "alice"), (a, "bob"), (b, "carol")):
        values = {"ci": row["ci"], "user": row["user"], "type": row["type"]}
        hand_made.add(store.insert_row("cmdb_rel_person", values, user=who)["sys_id"])
    # a duplicate the integration itself made (e.g. by an older version): healed
    values = {"ci": b["ci"], "user": b["user"], "type": b["type"]}
    own_dup = store.insert_row("cmdb_rel_person", values, user=tiny_sandbox.servicenow_username)[
        "sys_id"
    ]

    for run in range(3):
        report = make_job(tiny_sandbox, tmp_path, allow_user_sync=True, grace_runs=0).run(
            dry_run=False, force=True
        )
        assert report.outcome == "applied", report.error
        rows = _links(store)
        assert hand_made <= set(rows), f"run {run + 1} deleted a hand-made link"
        assert any("duplicate user link(s) not created by the integration user" in w
                   for w in report.warnings)  # fmt: skip
    assert own_dup not in _links(store)
    # every (ci, user) pair still has exactly one row the integration made
    pairs = {}
    for row in _links(store).values():
        if row["ci"] in managed and row["sys_created_by"] == tiny_sandbox.servicenow_username:
            pairs.setdefault((row["ci"], row["user"]), []).append(row["sys_id"])
    assert all(len(v) == 1 for v in pairs.values())


def test_reports_and_plans_are_private(tiny_sandbox, tmp_path):
    """Reports, plans and unmatched lists hold people's identifiers: mode 0600."""
    import stat

    from cisync_lib.cmdb import dump_plan

    report = make_job(tiny_sandbox, tmp_path, allow_user_sync=True).plan()
    assert report.unmatched  # the tiny tenant has unmatched identifiers by construction
    written = [
        report.save(tmp_path / "out" / "report.json"),
        report.write_unmatched_csv(tmp_path / "out" / "unmatched.csv"),
    ]
    dump_plan(report.plan, tmp_path / "out" / "plan.json")
    written.append(tmp_path / "out" / "plan.json")
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
