"""Resolution agrees with the generated tenants' ground truth, in memory.

The same check through the HTTPS sandbox is in tests/integration/correlation.
"""

import pytest

from cisync_lib.correlation import Correlator, CorrelatorConfig, InMemoryUserDirectory, ObservedName
from cisync_lib.sandbox._tenant import generate_tenant


def observed_names(tenant):
    """Every reported identifier, with its stream's anonymisation flag, as a sync would read them."""
    names = []
    for stream in tenant.streams:
        for app in tenant.apps("P90D", stream.id):
            for raw in tenant.users("P90D", stream.id, app.id):
                names.append(
                    ObservedName(
                        raw=raw, anonymized=stream.anonymize_users, context={"app": app.name}
                    )
                )
    return names


def outcomes(results):
    return {r.input.raw: (r.status, r.reason, r.user.sys_id if r.user else None) for r in results}


@pytest.mark.parametrize(("size", "seed"), [("tiny", 0), ("tiny", 1), ("small", 0)])
@pytest.mark.parametrize("which", ["default", "configured"])
def test_resolution_agrees_with_ground_truth(size, seed, which):
    """Every identifier gets the expected status, reason and sys_user row."""
    tenant = generate_tenant(size, seed)
    config = (
        CorrelatorConfig()
        if which == "default"
        else CorrelatorConfig.from_mapping(tenant.correlation_settings)
    )
    names = observed_names(tenant)
    results = Correlator(config).resolve_each(
        names, InMemoryUserDirectory(tenant.sys_users, server_like=True)
    )
    got = outcomes(results)
    assert set(got) == set(tenant.truth)
    wrong = []
    for identifier, truth in tenant.truth.items():
        expected = getattr(truth, which)
        if got[identifier] != (expected.status, expected.reason, expected.sys_id):
            wrong.append((truth.form, identifier, got[identifier], expected))
    assert wrong == []
