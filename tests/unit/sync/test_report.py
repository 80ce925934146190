"""SyncReport: round trips, rows for DataFrames, text and HTML."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import attrs
import pytest

from cisync_lib import ConfigError, DocumentError, GuardRefusedError
from cisync_lib.cmdb import Plan
from cisync_lib.cmdb._actions import AddLink, CreateApp
from cisync_lib.sync import GuardDecision, PlanCounts, SyncReport, UnmatchedUser

AT = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)


def make_report(**changes) -> SyncReport:
    values = {
        "connection": "contoso",
        "destination": "test",
        "environment": "test",
        "mode": "dry_run",
        "outcome": "planned",
        "started_at": AT,
        "finished_at": AT,
        "relationships": ("Cloud App", "User uses Cloud App"),
        "settings": {"allow_user_sync": {"value": True, "source": "override"}},
        "source": {"kind": "graph", "period": "P30D", "apps": 3, "apps_in_scope": 2,
                "identifiers": 5},
        "counts": {"create_app": 2, "add_link": 3, "unchanged_app": 0},
        "matching": {"total": 4, "match_rate": 0.5, "by_reason": {"MATCHED": 2}},
        "unmatched": (
            UnmatchedUser(identifier="jdoe\\desktop-1", status="SKIPPED", reason="LOCAL_ACCOUNT",
                          apps=("Dropbox",), raw_examples=("jdoe\\DESKTOP-1",)),
            UnmatchedUser(identifier="x@fabrikam.com", status="UNMATCHED", reason="NO_CANDIDATE",
                          apps=("Dropbox", "Box")),
        ),
        "guard": (GuardDecision(what="retire apps", count=1, managed=4, limit_percent=10.0,
                             verdict="refused"),),
        "timings": {"read": 0.5, "plan": 0.01},
        "requests": {"defender": 7, "servicenow": 4},
        "warnings": ("something to look at",),
        "actions": ({"action": "create_app", "app_id": "1", "name": "Dropbox", "ci": "a",
                  "user": "", "detail": ""},),
        "plan_fingerprint": "abc",
    }  # fmt: skip
    values.update(changes)
    return SyncReport(**values)


def test_json_round_trip_and_file_round_trip(tmp_path):
    report = make_report()
    assert SyncReport.from_dict(json.loads(report.to_json())) == report
    path = report.save(tmp_path / "r" / "report.json")
    assert SyncReport.load(path) == report


def test_saved_report_is_a_marked_document_with_utc_z_timestamps(tmp_path):
    path = make_report().save(tmp_path / "r.json")
    data = json.loads(path.read_text("utf-8"))
    assert (data["format"], data["version"]) == ("cisync-sync-report", 1)
    assert data["started_at"] == "2026-11-27T10:00:00Z"
    # a report saved before the marker, with an offset timestamp, still loads
    del data["format"]
    data["started_at"] = data["finished_at"] = AT.isoformat()
    assert SyncReport.from_dict(data) == make_report()


def test_the_plan_is_not_saved_with_the_report():
    report = make_report(plan=object())
    assert "plan" not in report.to_dict()


@pytest.mark.parametrize(
    "data",
    [{"version": 99}, [1, 2], {"version": 1, "connection": "x"}],
)
def test_foreign_documents_are_refused(tmp_path, data):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DocumentError) as info:
        SyncReport.load(path)
    assert info.value.file == str(path)
    assert str(info.value).startswith(f"report {path}: ")


def test_rows_are_plain_dicts_per_table():
    report = make_report()
    assert report.rows()[0]["name"] == "Dropbox"
    unmatched = report.rows("unmatched")
    assert [r["reason"] for r in unmatched] == ["LOCAL_ACCOUNT", "NO_CANDIDATE"]
    assert unmatched[1]["apps"] == ["Dropbox", "Box"]
    assert [r["skipped"] for r in unmatched] == [True, False]
    assert {r["action"]: r["planned"] for r in report.rows("counts")}["add_link"] == 3
    assert report.rows("guard")[0]["percent"] == 25.0
    assert report.rows("requests") == [
        {"service": "defender", "requests": 7},
        {"service": "servicenow", "requests": 4},
    ]
    with pytest.raises(ConfigError) as info:
        report.rows("nonsense")  # type: ignore[arg-type]
    assert str(info.value).startswith("SyncReport.rows(): table: unknown table 'nonsense'")
    json.dumps([report.rows(t) for t in ("actions", "unmatched", "counts", "timings")])


def test_summary_names_counts_reasons_guard_and_time():
    text = make_report().summary()
    assert "nothing written" in text
    assert "2 apps created, 3 links created" in text
    assert "LOCAL_ACCOUNT" in text
    assert "jdoe\\DESKTOP-1" in text
    assert "retire apps: 1 of 4 (25.0%, limit 10%): refused" in text
    assert "requests: defender 7, servicenow 4" in text
    assert "Warning: something to look at" in text


def test_summary_of_an_applied_run_shows_writes():
    report = make_report(outcome="applied", mode="apply", written={"create_app": 2})
    assert report.writes == 2
    assert "applied, 2 write(s)" in report.summary()
    assert "Changes (written): 2 apps created" in report.summary()


def test_html_escapes_everything():
    report = make_report(warnings=("<script>alert(1)</script>",))
    html = report._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<table>" in html
    assert "LOCAL_ACCOUNT" in html


def test_outcomes():
    assert make_report().raise_for_outcome().ok
    refused = make_report(outcome="refused", error="too much")
    assert not refused.ok
    with pytest.raises(GuardRefusedError, match="too much"):
        refused.raise_for_outcome()


def test_unmatched_by_reason_and_changes():
    report = make_report()
    assert report.unmatched_by_reason == {"LOCAL_ACCOUNT": 1, "NO_CANDIDATE": 1}
    assert report.changes == 5


def test_the_summary_states_the_match_rate_denominator_and_what_each_reason_means():
    report = make_report(
        matching={"total": 4, "match_rate": 2 / 3, "by_status": {"MATCHED": 2, "SKIPPED": 1,
                  "UNMATCHED": 1}},
    )  # fmt: skip
    text = report.summary()
    assert "match rate 66.7% = 2 matched of the 3 that name a person" in text
    assert "(1 skipped are not counted" in text
    not_matched, skipped = text.index("Not matched:"), text.index("Skipped, not counted:")
    assert not_matched < text.index("NO_CANDIDATE") < skipped < text.index("LOCAL_ACCOUNT")
    lines = text.splitlines()
    for reason in ("NO_CANDIDATE", "LOCAL_ACCOUNT"):
        row = next(i for i, line in enumerate(lines) if line.strip().startswith(reason))
        assert "Fix:" in lines[row + 1]  # one line: what it means and what to do


def test_the_review_lists_names_grouped_with_counts_and_a_limit():
    rows = tuple(
        {"action": "add_link", "app_id": "1", "name": "Dropbox", "ci": "c1", "user": f"u{i}",
         "user_name": f"User {i}", "user_email": f"u{i}@contoso.com", "detail": ""}
        for i in range(5)
    )  # fmt: skip
    report = make_report(counts={"add_link": 5, "create_app": 0}, actions=rows)
    text = report.review(limit=2)
    assert "user links to add (5):" in text
    assert "+ Dropbox  <-  User 0 <u0@contoso.com>" in text
    assert "User 2" not in text
    assert "… and 3 more" in text
    assert "User 4 <u4@contoso.com>" in report.review(limit=None)


def test_graph_pacing_is_kept_and_summarised():
    """The read's pacing facts survive a JSON round trip and show on the Source line."""
    http = {"requests": 60, "batches": 12, "concurrency_max": 16, "concurrency_peak": 9,
            "concurrency_final": 4, "throttled": 31, "throttle_wait_s": 12.5}  # fmt: skip
    report = make_report(source={"kind": "graph", "period": "P30D", "apps": 3,
                                 "apps_in_scope": 2, "http": http})  # fmt: skip
    assert SyncReport.from_dict(json.loads(report.to_json())) == report
    line = next(x for x in report.summary().splitlines() if x.startswith("Source:"))
    assert "Graph: up to 9 of 16 in flight, 31 throttled (12.5 s held)" in line


# --- counts: a frozen class, the same JSON ------------------------------------------

_ACTIONS = ["create_app", "update_app", "retire_app", "unchanged_app", "add_link",
            "remove_link", "unchanged_link", "create_vendor", "pending_removal"]  # fmt: skip


def test_counts_are_a_frozen_class_with_the_actions_as_attributes():
    report = make_report(written={"create_app": 2})
    assert isinstance(report.counts, PlanCounts)
    assert (report.counts.create_app, report.counts.add_link, report.counts.retire_app) == (2, 3, 0)
    assert list(report.counts.as_dict()) == _ACTIONS
    assert (report.changes, report.writes) == (5, 2)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        report.counts.add_link = 4  # type: ignore[misc]
    with pytest.raises(TypeError):  # a misspelled action is an error, not a silent 0
        make_report(counts={"add_links": 3})


def test_counts_of_a_plan():
    plan = Plan(
        fingerprint="f" * 40,
        created_at=AT,
        add_links=(AddLink(app_id="1", ci="c", user="u"), AddLink(app_id="1", ci="c", user="v")),
        unchanged_apps=("1", "2"),
        unchanged_links={"1": 4, "2": 1},
    )
    counts = PlanCounts.from_plan(plan)
    assert counts == PlanCounts(add_link=2, unchanged_app=2, unchanged_link=5)
    assert counts.changes == 2


def test_saved_counts_keep_their_keys_and_older_reports_load(tmp_path):
    data = json.loads(make_report().to_json())
    assert data["counts"] == dict.fromkeys(_ACTIONS, 0) | {"create_app": 2, "add_link": 3}
    assert list(data["written"]) == _ACTIONS
    # a report saved before counts were a class: written held only the writes, or nothing
    data["written"] = {"create_app": 2, "add_link": 3}
    data["counts"] = {}
    loaded = SyncReport.from_dict(data)
    assert loaded.written == PlanCounts(create_app=2, add_link=3)
    assert loaded.counts == PlanCounts()
    data["counts"] = {"create_apps": 1}
    with pytest.raises(DocumentError) as info:
        SyncReport.from_dict(data, source="r.json")
    assert info.value.file == "r.json"
    assert "counts" in str(info.value)


def test_counts_describe_the_writes_in_one_line():
    assert PlanCounts().describe() == "no changes"
    assert PlanCounts(unchanged_app=4, pending_removal=1).describe() == "no changes"
    counts = PlanCounts(add_link=40, create_app=3, create_vendor=1, remove_link=2)
    assert counts.describe() == (
        "1 vendors created, 3 apps created, 40 links created, 2 links removed"
    )


def test_the_report_of_a_plan_alone():
    plan = Plan(
        fingerprint="f" * 40,
        created_at=AT,
        creates=(CreateApp(app_id="11", sys_id="c1", values={"name": "Box"}),),
        add_links=(AddLink(app_id="11", ci="c1", user="u1"),),
    )
    report = SyncReport.from_plan(plan, destination="dev", environment="test")
    assert (report.mode, report.outcome, report.destination) == ("plan", "planned", "dev")
    assert (report.started_at, report.finished_at) == (AT, AT)
    assert report.counts == PlanCounts(create_app=1, add_link=1)
    assert report.plan_fingerprint == "f" * 40
    assert report.plan is plan
    assert [(r["action"], r["name"], r["ci"], r["user"]) for r in report.actions] == [
        ("create_app", "Box", "c1", ""),
        ("add_link", "Box", "c1", "u1"),
    ]
