"""The acceptance size: 1,000 apps and 20,000 people, Graph pages of 100, secret and certificate."""

import pytest

from cisync_lib.defender import GraphSource

from .conftest import graph_connection, start
from .truth import assert_matches, truth


@pytest.fixture(scope="module")
def large():
    sb = start("large")
    yield sb
    sb.close()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["secret", "pem"])
def test_large_tenant_equals_ground_truth_at_the_call_floor(large, kind):
    """Every app, field, user and flag of the large tenant; 1 token; the floor of Graph pages."""
    mark = large.request_log.mark()
    with GraphSource(graph_connection(large, kind)) as source:
        data = source.read(period=30)
    want = truth(large.tenant, "P30D")
    assert len(large.tenant.app_info) >= 1000
    assert_matches(data, want)
    assert large.request_log.round_trips(service="entra", method="POST", since=mark) == 1
    assert large.request_log.round_trips(service="graph", since=mark) == want.http_floor(20)
