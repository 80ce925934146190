"""SyncJob end to end: Graph through the sandbox, ServiceNow through the sandbox, oracle from truth."""

from __future__ import annotations

import pytest

from cisync_lib import RelationshipNotAvailableError
from cisync_lib.settings import ConnectionSettings, RelationshipKind
from cisync_lib.sync import Destination, SyncJob, SyncReport

from .conftest import (
    continuous_streams,
    deployment,
    expected_apps,
    expected_links,
    make_job,
    stored_apps,
    stored_links,
)


def test_plan_and_dry_run_write_nothing(tiny_sandbox, tmp_path):
    job = make_job(tiny_sandbox, tmp_path, allow_user_sync=True)
    mark = tiny_sandbox.request_log.mark()
    planned = job.plan()
    dry = job.run()  # dry run is the default
    assert tiny_sandbox.request_log.writes() == 0
    assert tiny_sandbox.request_log.since(mark)  # it did talk to the services
    assert stored_apps(tiny_sandbox.store) == {}
    tenant = tiny_sandbox.tenant
    assert planned.counts.create_app == len(expected_apps(tenant))
    assert planned.counts.add_link == len(expected_links(tenant))
    assert (planned.mode, dry.mode) == ("plan", "dry_run")
    assert planned.outcome == dry.outcome == "planned"
    assert planned.plan is not None


def test_apply_creates_exactly_the_ground_truth_and_a_rerun_writes_nothing(tiny_sandbox, tmp_path):
    job = make_job(tiny_sandbox, tmp_path, allow_user_sync=True)
    report = job.run(dry_run=False)
    tenant = tiny_sandbox.tenant
    assert report.outcome == "applied"
    assert set(stored_apps(tiny_sandbox.store)) == expected_apps(tenant)
    assert stored_links(tiny_sandbox.store) == expected_links(tenant)
    assert report.written.create_app == len(expected_apps(tenant))
    assert report.written.add_link == len(expected_links(tenant))
    assert report.writes == tiny_sandbox.request_log.writes(service="servicenow")
    assert report.requests["defender"] > 0
    assert report.requests["servicenow"] > 0
    assert set(report.timings) >= {"read", "correlate", "read_cmdb", "plan", "apply"}
    http = report.source["http"]  # Graph's pacing: batches, concurrency reached, throttling
    assert http["batches"] >= 1
    assert http["throttled"] == 0
    assert 1 <= http["concurrency_peak"] <= http["concurrency_max"]

    mark = tiny_sandbox.request_log.mark()
    again = make_job(tiny_sandbox, tmp_path, allow_user_sync=True).run(dry_run=False)
    assert again.writes == 0
    # Graph's $batch envelopes are POSTs that only read
    since = tiny_sandbox.request_log.since(mark)
    assert not [e for e in since if e.method != "GET" and e.path != "/beta/$batch"]
    assert (job.state_dir / "cmdb-run-state.json").exists()


def test_unmatched_users_carry_the_ground_truth_reason(tiny_sandbox, tmp_path):
    report = make_job(tiny_sandbox, tmp_path, allow_user_sync=True).plan()
    truth = tiny_sandbox.tenant.truth
    expected = {}
    for raw, item in truth.items():
        if item.default.status.value != "MATCHED":
            expected.setdefault(item.default.reason.value, set()).add(raw)
    seen = {}
    for user in report.unmatched:
        for raw in user.raw_examples:
            assert truth[raw].default.reason.value == user.reason
            seen.setdefault(user.reason, set()).add(raw)
        assert user.apps, "every unmatched identifier names the apps it used"
    # every reason the tenant's truth holds for identifiers it reported shows up
    assert set(seen) == {r for r, raws in expected.items() if raws & _reported(tiny_sandbox)}


def _reported(sandbox):
    tenant = sandbox.tenant
    return {
        raw
        for stream in continuous_streams(tenant)
        for app in tenant.apps("P30D", stream.id)
        for raw in tenant.users("P30D", stream.id, app.id)
    }


def test_without_user_sync_only_apps_are_synced(tiny_sandbox, tmp_path):
    job = make_job(tiny_sandbox, tmp_path)  # allow_user_sync stays at its default, off
    assert job.relationships == (RelationshipKind.APP_CI,)
    report = job.run(dry_run=False)
    assert stored_links(tiny_sandbox.store) == set()
    assert set(stored_apps(tiny_sandbox.store)) == expected_apps(tiny_sandbox.tenant)
    assert report.matching == {}
    assert report.unmatched == ()


def test_max_risk_score_filters_apps(tiny_sandbox, tmp_path):
    report = make_job(tiny_sandbox, tmp_path, max_risk_score=6).run(dry_run=False)
    assert set(stored_apps(tiny_sandbox.store)) == expected_apps(tiny_sandbox.tenant, 6)
    assert report.settings["max_risk_score"] == {"value": 6, "source": "override"}


def test_a_relationship_the_settings_do_not_allow_is_refused(tiny_sandbox, tmp_path):
    config = deployment(tiny_sandbox, tmp_path)
    job = make_job(tiny_sandbox, tmp_path)
    with pytest.raises(RelationshipNotAvailableError) as info:
        SyncJob(
            source=job.source,
            destination=job.destination,
            settings=config.settings(),
            relationships=[RelationshipKind.USER_USES_APP],
        )
    assert info.value.setting == "allow_user_sync"
    assert info.value.environment == "test"


def test_guard_refusal_writes_nothing_and_says_so(tiny_sandbox, tmp_path):
    make_job(tiny_sandbox, tmp_path, grace_runs=0).run(dry_run=False)
    before = stored_apps(tiny_sandbox.store)
    # lowering the maximum risk score retires many apps at once: over the 10% guard
    # (but keeps some: a source returning no app at all never retires anything)
    everything = expected_apps(tiny_sandbox.tenant)
    limit = max(
        t for t in range(11)
        if expected_apps(tiny_sandbox.tenant, t)
        and len(everything - expected_apps(tiny_sandbox.tenant, t)) > 0.1 * len(everything)
    )  # fmt: skip
    job = make_job(tiny_sandbox, tmp_path, grace_runs=0, max_risk_score=limit)
    report = job.run(dry_run=False)
    assert report.outcome == "refused"
    assert any(g.verdict == "refused" for g in report.guard)
    assert stored_apps(tiny_sandbox.store) == before
    forced = job.run(dry_run=False, force=True)
    assert forced.outcome == "applied"
    retired = {
        app_id for app_id, row in stored_apps(tiny_sandbox.store).items()
        if row["operational_status"] != before[app_id]["operational_status"]
    }  # fmt: skip
    assert retired == set(before) - expected_apps(tiny_sandbox.tenant, limit)
    assert forced.written.retire_app == len(retired)


def test_failed_user_lookups_never_remove_links_even_when_forced(tiny_sandbox, tmp_path):
    from cisync_lib.sandbox import FaultRule

    make_job(tiny_sandbox, tmp_path, allow_user_sync=True, grace_runs=0).run(dry_run=False)
    linked = stored_links(tiny_sandbox.store)
    assert linked == expected_links(tiny_sandbox.tenant)
    # the first sys_user lookup answers, every later one fails: those users are unknown,
    # not gone, so none of their links may go (grace 0 and force would otherwise allow it)
    tiny_sandbox.faults.add(
        FaultRule(service="servicenow", method="GET", path=r"/table/sys_user", status=500, after=1)
    )
    job = make_job(tiny_sandbox, tmp_path, allow_user_sync=True, grace_runs=0)
    report = job.run(dry_run=False, force=True)
    tiny_sandbox.faults.clear()
    assert "LOOKUP_ERROR" in {u.reason for u in report.unmatched}
    assert report.counts.unchanged_link > 0  # the first lookup's users still resolved
    assert report.written.remove_link == 0
    assert stored_links(tiny_sandbox.store) == linked


def test_a_saved_plan_applies_once_and_then_is_stale(tiny_sandbox, tmp_path):
    from cisync_lib import StalePlanError

    job = make_job(tiny_sandbox, tmp_path, allow_user_sync=True)
    plan = job.plan().plan
    applied = job.apply(plan)
    assert applied.writes == len(expected_apps(tiny_sandbox.tenant)) + len(
        expected_links(tiny_sandbox.tenant)
    )
    with pytest.raises(StalePlanError):
        job.apply(plan)


def test_report_saves_and_loads(tiny_sandbox, tmp_path):
    report = make_job(tiny_sandbox, tmp_path, allow_user_sync=True).plan()
    assert SyncReport.load(report.save(tmp_path / "r.json")) == report


def test_a_job_in_python_without_a_config(tiny_sandbox, tmp_path):
    """The API without TOML: explicit source, destination and settings."""
    from cisync_lib.defender import ClientSecret, GraphConnection, GraphSource
    from cisync_lib.servicenow import BasicAuth, ServiceNowConnection

    sb = tiny_sandbox
    source = GraphSource(
        GraphConnection(
            sb.tenant_id, sb.client_id, credential=ClientSecret(secret=sb.client_secret),
            authority_host=sb.authority.rsplit("/", 1)[0], graph_url=sb.graph_url,
            verify=str(sb.ca_file),
        )
    )  # fmt: skip
    conn = ServiceNowConnection(
        sb.servicenow_url,
        auth=BasicAuth(username=sb.servicenow_username, password=sb.servicenow_password),
        verify=str(sb.ca_file),
    )
    settings = ConnectionSettings(connection="contoso").with_override(
        "test", "allow_user_sync", True
    )
    job = SyncJob(
        source=source,
        destination=Destination(name="dev", environment="test", connection=conn),
        settings=settings,
    )
    report = job.run(dry_run=False)
    assert stored_links(sb.store) == expected_links(sb.tenant)
    assert "no state folder" in " ".join(report.warnings)


def test_the_ire_write_path_from_the_config(tiny_sandbox, tmp_path):
    """``write_path = "ire"``: apps go through IRE (the sandbox has the rule and the source)."""
    config = deployment(tiny_sandbox, tmp_path)
    text = config.path.read_text(encoding="utf-8")
    config.path.write_text(text.replace("[sync]\n", '[sync]\nwrite_path = "ire"\n'), "utf-8")
    mark = tiny_sandbox.request_log.mark()
    report = make_job(tiny_sandbox, tmp_path).run(dry_run=False)
    assert report.written.create_app == len(expected_apps(tiny_sandbox.tenant))
    assert set(stored_apps(tiny_sandbox.store)) == expected_apps(tiny_sandbox.tenant)
    assert any("identifyreconcile" in e.path for e in tiny_sandbox.request_log.since(mark))
    assert make_job(tiny_sandbox, tmp_path).run(dry_run=False).writes == 0


def test_read_cmdb_progress_moves_once_per_page_the_instance_served(tiny_sandbox, tmp_path):
    """The CMDB read tells progress per page, whether it ran ahead or in its own phase.

    Oracle: the sandbox's request log (Table API GET pages of the CMDB tables), not the job.
    """
    make_job(tiny_sandbox, tmp_path, allow_user_sync=True).run(dry_run=False)
    job = make_job(tiny_sandbox, tmp_path, allow_user_sync=True)
    told: list[tuple[str, int, int | None]] = []
    job.progress = lambda phase, done, total: told.append((phase, done, total))
    mark = tiny_sandbox.request_log.mark()
    job.plan()
    pages = [
        r
        for r in tiny_sandbox.request_log.since(mark)
        if r.service == "servicenow"
        and r.method == "GET"
        and "/table/" in r.path
        and not r.path.endswith("/sys_user")
    ]
    assert pages  # the CMDB was read
    ticks = [done for phase, done, _total in told if phase == "read_cmdb" and done]
    # every page once, counted up (the phase's start and end restate the count)
    assert sorted(set(ticks)) == list(range(1, len(pages) + 1))
    assert max(ticks) == len(pages)
