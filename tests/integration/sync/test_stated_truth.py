"""What a run reports is what happened: request counts, and writes made before a failure (issue 11).

Oracle: the sandbox's own request log, which records every request it answered.
"""

from __future__ import annotations

from cisync_lib.sandbox import FaultRule

from .conftest import make_job


def test_request_counts_include_retries_and_user_lookups(tiny_sandbox, tmp_path):
    log = tiny_sandbox.request_log
    # retried reads on both sides, the sys_user lookups among them
    tiny_sandbox.faults.add(
        FaultRule(service="servicenow", method="GET", path=r"/table/sys_user", status=503, times=2)
    )
    tiny_sandbox.faults.add(FaultRule(service="graph", status=503, times=3))
    job = make_job(tiny_sandbox, tmp_path, allow_user_sync=True)
    mark = log.mark()
    report = job.run(dry_run=False)
    assert report.outcome == "applied", report.error
    served_sn = log.round_trips(service="servicenow", since=mark)
    served_graph = log.round_trips(service="graph", since=mark)
    lookups = log.round_trips(
        service="servicenow", path_prefix="/api/now/table/sys_user", since=mark
    )
    assert lookups >= 3  # two refused, then answered
    assert sum(1 for e in log.since(mark) if e.status == 503) == 5
    assert report.requests["servicenow"] == served_sn
    assert report.requests["defender"] == served_graph


def test_a_state_folder_lost_after_the_writes_is_stated_truthfully(tiny_sandbox, tmp_path):
    """The writes happened, the run state could not be committed: say exactly that."""
    import pytest

    from cisync_lib import ApplyError

    job = make_job(tiny_sandbox, tmp_path, allow_user_sync=True)
    state = job.state_dir
    moved = []

    def progress(phase, done, total):
        if phase == "apply" and not moved:
            # as good as a read-only folder, for root too: the path is now a file
            state.rename(state.with_name("moved-away"))
            state.write_text("not a folder\n")
            moved.append(True)

    job.progress = progress
    mark = tiny_sandbox.request_log.mark()
    with pytest.raises(ApplyError) as info:
        job.run(dry_run=False)
    written = tiny_sandbox.request_log.writes(service="servicenow", since=mark)
    assert moved
    assert written > 0
    message = str(info.value)
    assert f"{written} of {written} write(s) confirmed, none left" in message
    assert "run state" in message
    assert "could not be saved" in message
