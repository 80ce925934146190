"""Copies of a job (``with_source``, ``with_correlator``, ``with_strategies``) write into
the same destination as the job, so they keep one grace-period bookkeeping.

The oracle is what the test itself did: how many runs it applied (no planner or
correlator output is trusted).
"""

from __future__ import annotations

from cisync_lib.sync import SyncJob

from .conftest import make_job


def _in_memory(sandbox, folder) -> SyncJob:
    """The sandbox's TEST job, but keeping its run state in memory (no state folder)."""
    made = make_job(sandbox, folder)
    return SyncJob(
        source=made.source,
        destination=made.destination,
        settings=made.settings,
        relationships=made.relationships,
        correlation=made.correlator,
        cmdb=made.cmdb_config,
        state_dir=None,
    )


def test_a_copy_without_a_state_folder_shares_the_jobs_run_state(tiny_sandbox, tmp_path):
    job = _in_memory(tiny_sandbox, tmp_path)
    copy = job.with_strategies(["email_upn"])
    assert copy.run(dry_run=False).outcome == "applied"  # run 1, by the copy
    # the job knows the run its copy committed, and the other way round
    assert job.plan().plan.run_state.completed_runs == 1
    assert job.run(dry_run=False).outcome == "applied"  # run 2, by the job
    assert copy.plan().plan.run_state.completed_runs == 2
    assert copy.with_source(copy.source).plan().plan.run_state.completed_runs == 2
