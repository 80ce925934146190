"""A plan applies only where it was made (issue 15, item 6): refused by a job for another
destination, with nothing written, whatever front end applies it.

The oracle is the sandbox itself: its request log (no write request reached the other
instance) and its store (the records are exactly as before).
"""

from __future__ import annotations

import pytest

from cisync_lib import PlanDestinationError
from cisync_lib.sandbox import SandboxConfig
from cisync_lib.sync import job_from_config, load_deployment, write_sandbox_config

from .conftest import expected_apps, stored_apps


def _rows(store):
    """Every record of the tables a sync writes, straight from the sandbox store."""
    return {t: store.query(t) for t in ("cmdb_ci_business_app", "cmdb_rel_person", "core_company")}


def test_a_plan_made_for_test_is_refused_by_a_prod_job_on_the_same_instance(tiny_sandbox, tmp_path):
    """Same instance, TEST and PROD destinations: the environment tells them apart."""
    config = load_deployment(write_sandbox_config(tmp_path, tiny_sandbox, prod=tiny_sandbox))
    plan = job_from_config(config, "test").plan().plan
    assert plan is not None
    assert plan.creates  # a plan that would write
    prod = job_from_config(config, "prod")
    before = _rows(tiny_sandbox.store)
    mark = tiny_sandbox.request_log.mark()
    with pytest.raises(PlanDestinationError) as info:
        prod.apply(plan)
    assert info.value.expected_environment == "prod"
    assert info.value.found_environment == "test"
    assert info.value.found_instance == info.value.expected_instance  # the same instance
    assert tiny_sandbox.request_log.since(mark) == ()  # refused before any request
    assert _rows(tiny_sandbox.store) == before
    # the TEST job it was made for applies it
    applied = job_from_config(config, "test").apply(plan)
    assert applied.outcome == "applied"
    assert set(stored_apps(tiny_sandbox.store)) == expected_apps(tiny_sandbox.tenant)


def test_a_plan_made_for_one_instance_is_refused_by_a_job_for_another(
    tiny_sandbox, cisync_sandbox_factory, tmp_path
):
    """Two instances: the plan for the first never writes into the second."""
    other = cisync_sandbox_factory(SandboxConfig(services=("servicenow",)))
    config = load_deployment(write_sandbox_config(tmp_path, tiny_sandbox, prod=other))
    plan = job_from_config(config, "test").plan().plan
    assert plan is not None
    assert plan.creates
    assert plan.instance_url is not None
    assert plan.instance_url.rstrip("/").lower() == tiny_sandbox.servicenow_url.rstrip("/").lower()
    job = job_from_config(config, "prod", with_source=False)
    before = _rows(other.store)
    mark = other.request_log.mark()
    with pytest.raises(PlanDestinationError) as info:
        job.apply(plan)
    assert info.value.found_instance == plan.instance_url
    assert info.value.expected_instance != plan.instance_url
    assert other.request_log.since(mark) == ()
    assert other.request_log.writes() == 0
    assert _rows(other.store) == before
    assert stored_apps(other.store) == {}
