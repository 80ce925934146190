"""The reports folder: one file per run, ``last.json`` a small pointer, retention."""

from __future__ import annotations

import json
from datetime import timedelta

from cisync_lib.cli._reports import save_run_report
from cisync_lib.sync import SyncReport

from .test_report import AT, make_report


def test_last_json_points_at_the_latest_and_only_the_newest_are_kept(tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("not a report", encoding="utf-8")
    saved = []
    for n in range(5):
        report = make_report(finished_at=AT + timedelta(minutes=n), outcome="planned")
        saved.append(save_run_report(tmp_path, report, keep=3))
    names = sorted(p.name for p in tmp_path.glob("*Z-*.json"))
    assert names == sorted(p.name for p in saved[-3:])
    assert other.exists()  # only run reports are pruned
    pointer = json.loads((tmp_path / "last.json").read_text(encoding="utf-8"))
    assert pointer["latest"] == saved[-1].name
    assert pointer["outcome"] == "planned"
    assert "actions" not in pointer  # not a second full copy
    assert "unmatched" not in pointer
    assert SyncReport.load(tmp_path / "last.json") == SyncReport.load(saved[-1])


def test_two_runs_in_the_same_second_keep_both_reports(tmp_path):
    first = save_run_report(tmp_path, make_report(), keep=30)
    second = save_run_report(tmp_path, make_report(), keep=30)
    assert first != second
    assert first.exists()
    assert second.exists()
