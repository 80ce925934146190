"""A job applies only plans made for its own destination (issue 15, item 6): no HTTP.

The oracle is the rule as documented: same instance (scheme and host in any case, a
default port or a trailing slash make no difference) and same environment, or refused.
"""

from __future__ import annotations

import pickle
from datetime import datetime, timezone

import attrs
import pytest

from cisync_lib import PlanDestinationError, PlanError
from cisync_lib.cmdb import Plan
from cisync_lib.cmdb._actions import CreateApp
from cisync_lib.servicenow import BasicAuth, ServiceNowConnection
from cisync_lib.sync import Destination, SyncJob
from cisync_lib.sync._job import instance_identity

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)
PROD = "https://contoso.service-now.com"


def _job(url: str = PROD, environment: str = "prod") -> SyncJob:
    conn = ServiceNowConnection(url, auth=BasicAuth(username="u", password="p"))
    return SyncJob(
        source=None,
        destination=Destination(name="main", environment=environment, connection=conn),
    )


def _plan(instance_url: str | None, environment: str | None) -> Plan:
    create = CreateApp(sys_id="c" * 32, app_id="1", values={"name": "App 1"})
    return Plan(
        fingerprint="f" * 40,
        created_at=NOW,
        creates=(create,),
        instance_url=instance_url,
        environment=environment,
    )


@pytest.mark.parametrize(
    ("written", "same"),
    [
        ("https://contoso.service-now.com", "https://contoso.service-now.com"),
        ("HTTPS://Contoso.Service-Now.COM/", "https://contoso.service-now.com"),
        ("https://contoso.service-now.com:443", "https://contoso.service-now.com"),
        (" https://contoso.service-now.com// ", "https://contoso.service-now.com"),
        ("https://sn.example:8443/base/", "https://sn.example:8443/base"),
        ("https://[::1]:8443", "https://[::1]:8443"),
    ],
)
def test_instance_urls_compare_regardless_of_case_default_port_and_trailing_slash(written, same):
    assert instance_identity(written) == same


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("https://contoso.service-now.com", "https://fabrikam.service-now.com"),
        ("https://sn.example:8443", "https://sn.example:9443"),
        ("https://sn.example/a", "https://sn.example/b"),
        ("https://sn.example", "http://sn.example"),
    ],
)
def test_different_instances_stay_different(one, other):
    assert instance_identity(one) != instance_identity(other)


def test_a_plan_for_the_same_instance_written_differently_passes():
    job = _job()
    job.check_plan(_plan("HTTPS://CONTOSO.service-now.com:443/", "prod"))  # no error


@pytest.mark.parametrize(
    ("instance_url", "environment"),
    [
        ("https://fabrikam.service-now.com", "prod"),  # another instance
        (PROD, "test"),  # the same instance, tagged TEST when planned
        (None, None),  # a plan that records no destination (straight from make_plan)
        (PROD, None),
        (None, "prod"),
    ],
)
def test_apply_refuses_a_plan_made_for_another_destination_before_any_request(
    instance_url, environment
):
    job = _job()
    plan = _plan(instance_url, environment)
    with pytest.raises(PlanDestinationError) as info:
        job.apply(plan)
    error = info.value
    assert isinstance(error, PlanError)
    assert (error.destination, error.expected_instance, error.expected_environment) == (
        "main",
        PROD,
        "prod",
    )
    assert (error.found_instance, error.found_environment) == (instance_url, environment)
    assert "nothing was written" in str(error)
    assert job.destination.connection.request_count == 0  # refused before any request
    with pytest.raises(PlanDestinationError):
        job.check_plan(plan)


def test_the_message_names_both_destinations():
    with pytest.raises(PlanDestinationError) as info:
        _job().check_plan(_plan("https://test.example", "test"))
    assert str(info.value) == (
        "the plan was made for https://test.example (TEST), not for this job's destination "
        "'main' (https://contoso.service-now.com, PROD); nothing was written; make a new "
        "plan with a job for this destination"
    )
    with pytest.raises(PlanDestinationError) as info:
        _job().check_plan(_plan(None, None))
    assert "the plan records no destination" in str(info.value)


def test_the_error_survives_pickling():
    error = PlanDestinationError(
        destination="main",
        expected_instance=PROD,
        expected_environment="prod",
        found_instance="https://test.example",
        found_environment="test",
        plan_destination="test",
    )
    copy = pickle.loads(pickle.dumps(error))
    assert attrs.asdict(copy, recurse=False) == attrs.asdict(error, recurse=False)
