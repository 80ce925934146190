"""The report's request counts match what each service served (issue 11, item 7).

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
