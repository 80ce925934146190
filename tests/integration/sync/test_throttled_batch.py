"""A sync whose Batch API call is throttled with a long Retry-After: capped, then applied."""

from __future__ import annotations

from cisync_lib._http import PolicyRetry
from cisync_lib.sandbox import FaultRule

from .conftest import expected_apps, make_job, stored_apps


def test_a_throttled_batch_waits_at_most_the_connections_cap_and_the_run_applies(
    tiny_sandbox, tmp_path, monkeypatch
):
    waits = []
    monkeypatch.setattr(PolicyRetry, "pause", lambda self, seconds: waits.append(seconds))
    rule = tiny_sandbox.faults.add(
        FaultRule(
            service="servicenow",
            method="POST",
            path="/api/now/v1/batch",
            kind="status",
            status=429,
            retry_after=3600,
            times=1,
        )
    )
    report = make_job(tiny_sandbox, tmp_path).run(dry_run=False)
    assert tiny_sandbox.faults.fired(rule) == 1
    # the job's connection keeps ServiceNowConnection's default cap of 60 s, not the hour asked
    assert waits == [60.0]
    assert report.outcome == "applied"
    assert set(stored_apps(tiny_sandbox.store)) == expected_apps(tiny_sandbox.tenant)
