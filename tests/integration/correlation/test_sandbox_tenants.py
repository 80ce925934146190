"""Against the sandbox's generated tenants, through HTTPS, resolution agrees with the ground truth."""

import pytest

from cisync_lib.correlation import (
    Correlator,
    CorrelatorConfig,
    ObservedName,
    ServiceNowUserDirectory,
)
from cisync_lib.sandbox._tenant import generate_tenant

from .conftest import connect, insert_users


@pytest.mark.parametrize("size", ["tiny", "small"])
@pytest.mark.parametrize("mode", ["keyed", "snapshot"])
def test_ground_truth_through_the_sandbox(sandbox, size, mode):
    """Every identifier, under the default and the configured chain, gets its expected outcome."""
    tenant = generate_tenant(size, 0)
    insert_users(sandbox.store, tenant.sys_users)
    anonymized = {s.id for s in tenant.streams if s.anonymize_users}
    names = [
        ObservedName(raw=raw, anonymized=stream.id in anonymized)
        for stream in tenant.streams
        for app in tenant.apps("P90D", stream.id)
        for raw in tenant.users("P90D", stream.id, app.id)
    ]
    directory = ServiceNowUserDirectory(connect(sandbox), mode=mode)
    for which, config in (
        ("default", CorrelatorConfig()),
        ("configured", CorrelatorConfig.from_mapping(tenant.correlation_settings)),
    ):
        results = Correlator(config).resolve(names, directory)
        assert {r.input.raw for r in results} == set(tenant.truth)
        wrong = []
        for r in results:
            expected = getattr(tenant.truth[r.input.raw], which)
            got = (r.status, r.reason, r.user.sys_id if r.user else None)
            if got != (expected.status, expected.reason, expected.sys_id):
                wrong.append((tenant.truth[r.input.raw].form, r.input.raw, got))
        assert wrong == [], which
