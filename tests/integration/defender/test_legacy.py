"""The legacy REST adapter against the sandbox's MDCA service: token, paging, budget, bearer."""

import pytest

from cisync_lib import ConfigError, DefenderHttpError
from cisync_lib.defender import ClientSecret, HttpPolicy, LegacySource, RateLimit
from cisync_lib.sandbox import FaultRule

from .conftest import legacy_connection, start
from .truth import truth


def observations(data):
    return {(o.stream_id, o.id): o for m in data.apps for o in m.observations}


def test_token_read_equals_ground_truth(sb):
    """Streams and apps (every field) through Authorization: Token; users are not asked for."""
    mark = sb.request_log.mark()
    with LegacySource(legacy_connection(sb)) as source:
        data = source.read(period=90, include_users=False)
    want = truth(sb.tenant, "P90D")
    assert [s.id for s in data.streams] == [s.id for s in want.streams]
    assert [(s.display_name, s.anonymize_users) for s in data.streams] == [
        (s.display_name, s.anonymize_users) for s in want.streams
    ]
    assert observations(data) == want.observations
    assert tuple(m.id for m in data.apps) == want.app_order
    assert (data.users, data.users_read, data.source) == ({}, False, "legacy")
    records = sb.request_log.since(mark)
    assert {r.user for r in records} == {"api-token"}
    assert len(records) == 1 + len(want.streams)  # every stream fits one page of 100


def test_risk_filter_and_short_pages(sb):
    """The score filter is sent in the body; a short page shifts skip, nothing is lost."""
    sb.faults.add(FaultRule(service="mdca", kind="short_page", probability=0.5))
    with LegacySource(legacy_connection(sb)) as source:
        data = source.read(period=30, max_risk_score=6, include_users=False)
    assert observations(data) == truth(sb.tenant, "P30D", max_risk=6).observations


def test_what_the_legacy_api_cannot_give_is_refused():
    """Users need the experimental flag; devices and catalog info do not exist there."""
    from cisync_lib.defender import LegacyConnection, LegacyToken

    source = LegacySource(
        LegacyConnection("https://t.example/api", credential=LegacyToken(key="k"))
    )
    with pytest.raises(ConfigError, match="experimental_users"):
        source.read()
    with pytest.raises(ConfigError, match="include_devices"):
        source.read(include_users=False, include_devices=True)
    with pytest.raises(ConfigError, match="include_app_info"):
        source.read(include_users=False, include_app_info=True)


def test_bearer_token_for_the_cloud_app_security_resource(sb):
    """An Entra ID app credential works too (scope 05a65629-.../.default, role Discovery.read)."""
    conn = legacy_connection(
        sb,
        credential=ClientSecret(secret=sb.client_secret),
        tenant_id=sb.tenant_id,
        client_id=sb.client_id,
        authority_host=sb.authority.rsplit("/", 1)[0],
    )
    with LegacySource(conn) as source:
        data = source.read(include_users=False)
    assert observations(data) == truth(sb.tenant).observations
    assert {r.user for r in sb.request_log.entries if r.service == "mdca"} >= {sb.client_id}


def test_a_bad_token_fails_loudly(sb):
    """A refused token is an auth error naming the request."""
    from cisync_lib import DefenderAuthError
    from cisync_lib.defender import LegacyToken

    conn = legacy_connection(sb, credential=LegacyToken(key="0" * 64))
    with LegacySource(conn) as source, pytest.raises(DefenderAuthError, match="discovery/streams"):
        source.read(include_users=False)


@pytest.fixture(scope="module")
def paged():
    """A sandbox whose legacy API pages by 10 and allows 10 requests per second."""
    sb = start("small", mdca_page_limit=10, mdca_rate_limit=10, mdca_rate_window=1.0)
    yield sb
    sb.close()


def test_paging_by_skip_and_the_budget_is_kept_client_side(paged):
    """Many pages, all read; the client's budget means the server never had to say 429."""
    policy = HttpPolicy(rate_limit=RateLimit(calls=10, period=1.0), retries=0)
    with LegacySource(legacy_connection(paged, http=policy)) as source:
        data = source.read(include_users=False)
    assert observations(data) == truth(paged.tenant).observations
    statuses = [r.status for r in paged.request_log.entries if r.service == "mdca"]
    assert len(statuses) > 20
    assert set(statuses) == {200}


def test_without_a_budget_the_server_throttles(paged):
    """The same read with no client budget and no retries hits the server's 429."""
    policy = HttpPolicy(rate_limit=None, retries=0, concurrency=1)
    with (
        LegacySource(legacy_connection(paged, http=policy)) as source,
        pytest.raises(DefenderHttpError) as info,
    ):
        source.read(include_users=False)
    assert info.value.status == 429
