"""A reviewed plan cannot write user links once user sync is no longer allowed (no HTTP)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from cisync_lib import RelationshipNotAvailableError
from cisync_lib.cmdb import Plan
from cisync_lib.cmdb._actions import AddLink
from cisync_lib.servicenow import BasicAuth, ServiceNowConnection
from cisync_lib.settings import ConnectionSettings
from cisync_lib.sync import Destination, SyncJob

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)


def _job(settings: ConnectionSettings) -> SyncJob:
    conn = ServiceNowConnection("https://x.invalid", auth=BasicAuth(username="u", password="p"))
    return SyncJob(
        source=None,
        destination=Destination(name="prod", environment="prod", connection=conn),
        settings=settings,
    )


def test_a_plan_with_user_links_is_refused_when_user_sync_is_off():
    # planned while PROD allowed user sync; the consent was withdrawn before the apply
    plan = Plan(
        fingerprint="f" * 40,
        created_at=NOW,
        rel_type="t" * 32,
        add_links=(AddLink(app_id="1", ci="c" * 32, user="u" * 32),),
        instance_url="https://x.invalid",  # made for this job's destination
        environment="prod",
    )
    job = _job(ConnectionSettings(connection="contoso"))
    with pytest.raises(RelationshipNotAvailableError) as info:
        job.apply(plan)
    assert (info.value.setting, info.value.environment) == ("allow_user_sync", "prod")
    assert job.destination.connection.request_count == 0  # refused before any request
