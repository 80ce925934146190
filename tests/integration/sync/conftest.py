"""Sync jobs through the full HTTPS sandbox, with ground truth from the generated tenant."""

from __future__ import annotations

import pytest

from cisync_lib.settings import Consent
from cisync_lib.sync import job_from_config, load_deployment
from cisync_lib.sync._sandbox_config import write_sandbox_config

PERIOD = "P30D"
PREFIX = "mdca:app:"


@pytest.fixture
def tiny_sandbox(cisync_sandbox_factory):
    """A fresh sandbox with every service and a tiny generated tenant."""
    from cisync_lib.sandbox import SERVICE_NAMES, SandboxConfig

    return cisync_sandbox_factory(SandboxConfig(size="tiny", seed=0, services=SERVICE_NAMES))


def deployment(sandbox, folder, **overrides):
    """A deployment config for ``sandbox`` in ``folder``, with TEST settings overridden."""
    path = write_sandbox_config(folder, sandbox)
    config = load_deployment(path)
    settings = config.settings()
    for name, value in overrides.items():
        settings = settings.with_override("test", name, value)
    config.settings_file.save(settings, consent=Consent.now("tests"))
    return load_deployment(path)


def make_job(sandbox, folder, **overrides):
    return job_from_config(deployment(sandbox, folder, **overrides), "test")


def continuous_streams(tenant):
    """The streams a job reads by default: one-off snapshot uploads are left out."""
    return [s for s in tenant.streams if not s.is_snapshot]


def expected_links(tenant, max_risk_score=10):
    """(app id, sys_user sys_id) pairs the default chain must link: from the ground truth."""
    pairs = set()
    for stream in continuous_streams(tenant):
        for app in tenant.apps(PERIOD, stream.id):
            if app.risk_score > max_risk_score:
                continue
            for raw in tenant.users(PERIOD, stream.id, app.id):
                outcome = tenant.truth[raw].default
                if outcome.status.value == "MATCHED":
                    pairs.add((app.id, outcome.sys_id))
    return pairs


def expected_apps(tenant, max_risk_score=10):
    """App id -> the highest risk score any stream reports (the merged view)."""
    scores: dict[str, int] = {}
    for stream in continuous_streams(tenant):
        for app in tenant.apps(PERIOD, stream.id):
            scores[app.id] = max(scores.get(app.id, 0), app.risk_score)
    return {app_id for app_id, score in scores.items() if score <= max_risk_score}


def stored_apps(store):
    """App id -> the CI row, read straight from the sandbox store."""
    rows = store.query("cmdb_ci_business_app")
    return {
        r["correlation_id"][len(PREFIX) :]: r
        for r in rows
        if r.get("correlation_id", "").startswith(PREFIX)
    }


def stored_links(store):
    """(app id, user sys_id) of every cmdb_rel_person row on a managed CI."""
    app_of = {row["sys_id"]: app_id for app_id, row in stored_apps(store).items()}
    return {
        (app_of[r["ci"]], r["user"]) for r in store.query("cmdb_rel_person") if r["ci"] in app_of
    }
