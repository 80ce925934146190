"""Degraded conditions: faults on every service, sys_user rows hidden by ACLs, partial runs.

Oracles, all independent of the planner: the generated tenant's ground truth
(``expected_apps`` / ``expected_links``), rows read straight from the sandbox
store, and the sandbox's request log (which ``sys_user`` lookups never got a
clean answer).
"""

from __future__ import annotations

import json
import random
import re
import shutil
from collections import Counter
from urllib.parse import parse_qs

import attrs
import pytest

from cisync_lib.correlation import Correlator
from cisync_lib.defender import ClientSecret, GraphConnection, GraphSource, HttpPolicy
from cisync_lib.sandbox import SERVICE_NAMES, FaultRule, SandboxConfig, ServiceNowOptions
from cisync_lib.servicenow import BasicAuth, ServiceNowConnection

from .conftest import expected_apps, expected_links, make_job, stored_apps, stored_links

APPS, LINKS = "cmdb_ci_business_app", "cmdb_rel_person"
SYS_USER = r"/api/now/(v\d/)?table/sys_user$"


def fast(sb, job, *, retries=4, sessions=None, **correlation):
    """The job with quick retries (the sandbox answers at once) and the given correlation knobs."""
    conn = ServiceNowConnection(
        sb.servicenow_url,
        auth=BasicAuth(username=sb.servicenow_username, password=sb.servicenow_password),
        verify=str(sb.ca_file),
        timeout=(5.0, 5.0),
        retries=retries,
        backoff=0.01,
        **({"sessions": sessions} if sessions else {}),
    )
    job.destination = attrs.evolve(job.destination, connection=conn)
    job.source = GraphSource(
        GraphConnection(
            sb.tenant_id,
            sb.client_id,
            credential=ClientSecret(secret=sb.client_secret),
            authority_host=sb.authority.rsplit("/", 1)[0],
            graph_url=sb.graph_url,
            graph_scope=sb.graph_scope,
            verify=str(sb.ca_file),
            http=HttpPolicy(retries=8, backoff_factor=0.01, backoff_jitter=0.01, rate_limit=None),
        )
    )
    if correlation:
        job.correlator = Correlator(
            config=attrs.evolve(job.correlator.config, **correlation),
            alias_map=job.correlator.alias_map,
        )
    return job


def duplicates(store):
    """(table, key) seen more than once: CIs by correlation id, links by (ci, user)."""
    apps = Counter(r["correlation_id"] for r in store.query(APPS) if r["correlation_id"])
    links = Counter((r["ci"], r["user"]) for r in store.query(LINKS))
    return [k for k, n in apps.items() if n > 1] + [k for k, n in links.items() if n > 1]


def sys_user_lookups(sb, mark):
    """From the request log: every distinct sys_user query, and those never answered cleanly."""
    answered: dict[str, bool] = {}
    for entry in sb.request_log.since(mark):
        if entry.service != "servicenow" or not entry.path.endswith("/table/sys_user"):
            continue
        query = parse_qs(entry.query).get("sysparm_query", [""])[0]
        query = re.sub(r"(\^?sys_id>[0-9a-f]{32})?\^?ORDERBYsys_id$", "", query)  # pages of one
        clean = entry.status == 200 and entry.fault is None
        answered[query] = answered.get(query, False) or clean
    return len(answered), sum(1 for ok in answered.values() if not ok)


# --- 20% mixed faults on every service -----------------------------------------------------


def mixed_faults(after):
    """About 20% of the requests of every service fail, in every way the sandbox can."""
    p = 0.055  # four rules per service: 1 - (1 - p) ** 4 ~ 20%
    rules = []
    for service in ("entra", "graph"):
        rules += [
            FaultRule(service=service, kind="status", status=503, probability=p, after=after),
            FaultRule(service=service, kind="status", status=429, probability=p, after=after),
            FaultRule(service=service, kind="drop", probability=p, after=after),
            FaultRule(service=service, kind="malformed", probability=p, after=after),
        ]
    rules += [
        # sys_user lookups: 500s and cut bodies
        FaultRule(service="servicenow", method="GET", path=SYS_USER, kind="status", status=500,
                  probability=0.1, after=after),
        FaultRule(service="servicenow", method="GET", path=SYS_USER, kind="drop",
                  probability=0.1, after=after),
        # every other read: cut bodies, malformed JSON, 503
        FaultRule(service="servicenow", method="GET", kind="drop", probability=p, after=after),
        FaultRule(service="servicenow", method="GET", kind="malformed", probability=p,
                  after=after),
        FaultRule(service="servicenow", method="GET", kind="status", status=503, probability=p,
                  after=after),
        # writes: refused batches and answers lost after the work was done
        FaultRule(service="servicenow", method="POST", kind="status", status=503, probability=0.1,
                  after=after),
        FaultRule(service="servicenow", method="POST", kind="drop", probability=0.1, after=after),
    ]  # fmt: skip
    return rules


@pytest.fixture
def faulty_world(cisync_sandbox_factory, tmp_path_factory):
    """A tiny tenant synced once without faults: the baseline every seeded run starts from."""
    sb = cisync_sandbox_factory(SandboxConfig(size="tiny", seed=0, services=SERVICE_NAMES))
    folder = tmp_path_factory.mktemp("baseline")
    job = fast(sb, make_job(sb, folder, allow_user_sync=True, grace_runs=0,
                            max_unlink_percent=100, max_retire_percent=100))  # fmt: skip
    report = job.run(dry_run=False)
    assert report.outcome == "applied"
    tenant = sb.tenant
    assert set(stored_apps(sb.store)) == expected_apps(tenant)
    assert stored_links(sb.store) == expected_links(tenant)
    baseline = {t: sb.store.query(t) for t in (APPS, LINKS)}
    return sb, folder, job.state_dir, baseline


def restore(sb, baseline, rng, users):
    """Put the baseline back, add stale links of ours and take some of ours away."""
    for table in (LINKS, APPS):
        for row in sb.store.query(table):
            sb.store.delete(table, row["sys_id"])
    integration = sb.servicenow_username
    for table in (APPS, LINKS):
        for row in baseline[table]:
            sb.store.insert_row(table, row, user=row["sys_created_by"] or integration)
    links = baseline[LINKS]
    gone = rng.sample(links, 3)
    for row in gone:
        sb.store.delete(LINKS, row["sys_id"])
    linked = {(r["ci"], r["user"]) for r in links}
    stale = []
    for row in rng.sample(links, 3):  # three apps gain a link no source justifies
        user = next(u for u in users if (row["ci"], u) not in linked)
        stale.append((row["ci"], user))
        sb.store.insert_row(LINKS, {"ci": row["ci"], "user": user, "type": row["type"]},
                            user=integration)  # fmt: skip
    return stale


def test_twenty_seeded_runs_under_mixed_faults_are_exact_or_partial_and_say_so(
    faulty_world, tmp_path
):
    sb, folder, baseline_state, baseline = faulty_world
    tenant = sb.tenant
    want_links, want_apps = expected_links(tenant), expected_apps(tenant)
    users = sorted(u.sys_id for u in tenant.sys_users)
    outcomes = Counter()
    problems = []
    for seed in range(20):
        rng = random.Random(seed)
        stale = restore(sb, baseline, rng, users)
        before = stored_links(sb.store)
        state_dir = tmp_path / f"state-{seed}"
        shutil.copytree(baseline_state, state_dir)
        job = fast(sb, make_job(sb, folder, allow_user_sync=True, grace_runs=0,
                                max_unlink_percent=100, max_retire_percent=100),
                   retries=1, chunk_size=8)  # fmt: skip
        job.state_dir = state_dir
        for rule in mixed_faults(after=seed):
            sb.faults.add(rule)
        mark = sb.request_log.mark()
        try:
            report = job.run(dry_run=False)
        except Exception as exc:
            problems.append(f"seed {seed}: raised {type(exc).__name__}: {exc}")
            sb.faults.clear()
            continue
        finally:
            sb.faults.clear()
        lookups, failed = sys_user_lookups(sb, mark)
        outcomes[report.outcome] += 1
        assert not duplicates(sb.store), f"seed {seed}"
        links = stored_links(sb.store)
        # never a link the source justifies taken away, never one it does not added
        assert (before & want_links) <= links, f"seed {seed}: a justified link was removed"
        assert links <= want_links | {
            (app_id, user) for app_id, user in before if (app_id, user) not in want_links
        }, f"seed {seed}"
        assert set(stored_apps(sb.store)) == want_apps, f"seed {seed}"
        if failed:  # the log shows lookups that never got an answer: never "applied"
            assert report.outcome == "partial", f"seed {seed}: {report.outcome}"
            partial = report.partial
            assert partial["sys_user_lookups_failed"] == failed, f"seed {seed}"
            assert partial["sys_user_lookups"] == lookups, f"seed {seed}"
            assert partial["links_not_evaluated"] > 0
            assert partial["summary"].startswith(f"{partial['links_not_evaluated']:,} links not")
            assert f"{failed} of {lookups} sys_user lookups failed" in partial["summary"]
            assert "after 2 tries" in partial["summary"]
            assert "re-run to complete" in partial["summary"]
        else:  # every lookup answered: exactly the fault-free state
            assert report.outcome == "applied", f"seed {seed}: {report.partial}"
            assert links == want_links, f"seed {seed}"
        # a fault-free re-run completes the job
        again = fast(sb, make_job(sb, folder, allow_user_sync=True, grace_runs=0,
                                  max_unlink_percent=100, max_retire_percent=100))  # fmt: skip
        again.state_dir = state_dir
        assert again.run(dry_run=False).outcome == "applied"
        assert stored_links(sb.store) == want_links, f"seed {seed}: not converged"
        assert not {(app_of_ci(sb, ci), u) for ci, u in stale} & stored_links(sb.store)
        assert not duplicates(sb.store)
    assert not problems, "\n".join(problems)
    assert sum(outcomes.values()) == 20
    print(f"outcomes over 20 seeded runs: {dict(outcomes)}")


def app_of_ci(sb, ci):
    row = sb.store.get(APPS, ci)
    return row["correlation_id"].removeprefix("mdca:app:") if row else ci


# --- sys_user rows hidden by a read ACL ----------------------------------------------------


@pytest.fixture
def acl_sandbox(cisync_sandbox_factory):
    """A tiny tenant whose read ACL hides the sys_user rows marked ``u_hidden=true``."""
    options = ServiceNowOptions(
        extra_columns={"sys_user": ("u_hidden",)}, read_acl={"sys_user": "u_hidden=true"}
    )
    return cisync_sandbox_factory(
        SandboxConfig(size="tiny", seed=0, services=SERVICE_NAMES, servicenow=options)
    )


def hide(sb, sys_ids, hidden=True):
    for sys_id in sys_ids:
        sb.store.update("sys_user", sys_id, {"u_hidden": "true" if hidden else "false"})


def most_linked_users(links, n):
    counts = Counter(user for _, user in links)
    return [user for user, _ in counts.most_common(n)]


@pytest.mark.parametrize("mode", ["keyed", "snapshot"])
def test_rows_hidden_from_sys_user_never_remove_links(acl_sandbox, tmp_path, mode):
    sb = acl_sandbox
    knobs = {"keyed_threshold": 1} if mode == "snapshot" else {"chunk_size": 8}

    def job():
        made = make_job(sb, tmp_path, allow_user_sync=True, grace_runs=1,
                        max_unlink_percent=100)  # fmt: skip
        return fast(sb, made, **knobs)

    want = expected_links(sb.tenant)
    assert job().run(dry_run=False).outcome == "applied"
    assert stored_links(sb.store) == want
    hidden = most_linked_users(want, 3)
    their_links = {pair for pair in want if pair[1] in hidden}
    hide(sb, hidden)
    for run in range(4):  # twice the grace period and more
        mark = sb.request_log.mark()
        report = job().run(dry_run=False)
        assert report.outcome == "partial", f"run {run}"
        assert stored_links(sb.store) == want, f"run {run}: a link was removed"
        assert not duplicates(sb.store)
        partial = report.partial
        assert partial["existing_links_kept"] == len(their_links)
        assert partial["links_not_evaluated"] >= len(their_links)
        # each hidden account holds its email and its user name: both values are unknown
        assert partial["sys_user_values_hidden"] >= len(hidden)
        assert partial["sys_user_rows_hidden"] >= len(hidden)
        lookups, never_answered = sys_user_lookups(sb, mark)
        assert never_answered == 0
        assert (partial["sys_user_lookups"], partial["sys_user_lookups_failed"]) == (lookups, 0)
        assert "read ACLs hide from the integration user" in partial["summary"]
        assert report.written.remove_link == 0
    # the run state counted none of those runs as a miss of the hidden users' links
    state = (job().state_dir / "cmdb-run-state.json").read_text(encoding="utf-8")
    assert not [user for user in hidden if user in state]
    hide(sb, hidden, hidden=False)
    final = job().run(dry_run=False)
    assert final.outcome == "applied"
    assert final.partial == {}
    assert stored_links(sb.store) == want


@pytest.mark.parametrize("mode", ["keyed", "snapshot"])
def test_a_first_sync_with_failed_lookups_is_partial_and_a_rerun_completes(
    tiny_sandbox, tmp_path, mode
):
    sb = tiny_sandbox
    knobs = {"keyed_threshold": 1} if mode == "snapshot" else {"chunk_size": 8}
    job = fast(sb, make_job(sb, tmp_path, allow_user_sync=True), retries=1, sessions=1,
               **knobs)  # fmt: skip
    # the first sys_user read answers 500 on both of its tries (one session: one at a time)
    rule = sb.faults.add(
        FaultRule(service="servicenow", method="GET", path=SYS_USER, kind="status", status=500,
                  times=2)
    )  # fmt: skip
    mark = sb.request_log.mark()
    report = job.run(dry_run=False)
    assert sb.faults.fired(rule) == 2
    lookups, failed = sys_user_lookups(sb, mark)
    assert failed == 1
    assert report.outcome == "partial"
    assert set(stored_apps(sb.store)) == expected_apps(sb.tenant)  # the apps are all there
    links = stored_links(sb.store)
    assert links < expected_links(sb.tenant)
    if mode == "snapshot":  # the one read of sys_user failed: no user is known, none linked
        assert (lookups, links) == (1, set())
    partial = report.partial
    missing = len(expected_links(sb.tenant) - links)
    assert partial["links_not_evaluated"] >= missing > 0
    assert partial["summary"] == (
        f"{partial['links_not_evaluated']:,} links not evaluated: 1 of {lookups} sys_user "
        "lookups failed (HTTP 500) after 2 tries; re-run to complete"
    )
    assert (partial["statuses"], partial["tries"]) == (["HTTP 500"], 2)
    assert "PARTIAL" in report.summary()
    assert partial["summary"] in report.summary()
    again = fast(sb, make_job(sb, tmp_path, allow_user_sync=True)).run(dry_run=False)
    assert again.outcome == "applied"
    assert stored_links(sb.store) == expected_links(sb.tenant)


def test_the_cli_exits_4_on_a_partial_run_and_saves_the_counts(acl_sandbox, tmp_path):
    from tests.integration.cli.conftest import cli_for

    sb = acl_sandbox
    cli = cli_for(sb, tmp_path)
    consent = ("--i-consent", "--by", "tests")
    assert (
        cli.run(*cli.with_config("settings", "set", "allow_user_sync", "true", *consent)).code == 0
    )
    assert cli.run(*cli.with_config("apply", "--yes", "-q")).code == 0
    want = stored_links(sb.store)
    assert want == expected_links(sb.tenant)
    hide(sb, most_linked_users(want, 2))
    result = cli.run(*cli.with_config("apply", "--yes", "--json"))
    assert result.code == 4, result.stderr
    data = result.json()
    assert data["outcome"] == "partial"
    assert data["partial"]["existing_links_kept"] > 0
    saved = json.loads((tmp_path / "state" / "sandbox--test" / "reports" / "last.json").read_text())
    assert saved["outcome"] == "partial"
    assert saved["partial"] == data["partial"]
    text = cli.run(*cli.with_config("apply", "--yes"))
    assert text.code == 4
    assert f"Partial: {data['partial']['summary']}" in text.stdout
    assert stored_links(sb.store) == want


def test_a_partial_plan_applied_later_is_partial_too(acl_sandbox, tmp_path):
    """A reviewed plan from a run that could not look everyone up stays partial when applied."""
    from cisync_lib.cmdb import plan_from_json, plan_to_json

    sb = acl_sandbox

    def job():
        return fast(sb, make_job(sb, tmp_path, allow_user_sync=True, grace_runs=0,
                                 max_unlink_percent=100), chunk_size=8)  # fmt: skip

    assert job().run(dry_run=False).outcome == "applied"
    want = stored_links(sb.store)
    hidden = most_linked_users(want, 2)
    hide(sb, hidden)
    planned = job().plan()
    assert planned.outcome == "partial"
    saved = plan_from_json(json.loads(json.dumps(plan_to_json(planned.plan))))
    applied = job().apply(saved)
    assert applied.outcome == "partial"
    assert applied.partial == planned.partial
    assert not applied.ok
    assert stored_links(sb.store) == want  # the hidden users' links were kept
