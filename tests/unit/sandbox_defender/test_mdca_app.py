"""The legacy MDCA REST app: Token auth, streams, discovered apps (paging, filters), throttling."""

import pytest

APPS = "/api/v1/discovery/discovered_apps/"


def auth(services):
    return {"Authorization": f"Token {services.mdca.token}"}


def post_apps(services, headers=None, **body):
    return services.mdca_client.post(APPS, json=body, headers=headers or auth(services))


def test_token_is_64_hex(services):
    """The legacy token looks like the portal's (64 hex digits)."""
    assert len(services.mdca.token) == 64
    int(services.mdca.token, 16)


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Authentication credentials were not provided."),
        ({"Authorization": "Token wrong"}, "Invalid token."),
        ({"Authorization": "Basic abc"}, "Invalid token."),
    ],
)
def test_authentication_errors(services, headers, detail):
    """Missing or wrong credentials are 401 with a detail message."""
    response = services.mdca_client.get("/api/discovery/streams/", headers=headers)
    assert response.status_code == 401
    assert response.json == {"detail": detail}


def test_entra_tokens_for_the_mdca_resource_work(services):
    """A Bearer token for the Cloud App Security app is accepted; a Graph token is not."""
    good = {"Authorization": f"Bearer {services.token('mdca')}"}
    assert services.mdca_client.get("/api/discovery/streams/", headers=good).status_code == 200
    bad = {"Authorization": f"Bearer {services.token('graph')}"}
    assert services.mdca_client.get("/api/discovery/streams/", headers=bad).status_code == 401


def test_streams_with_legacy_names_on_both_prefixes(services):
    """{"streams": [...]} with _id, under /api/ and /cas/api/."""
    for prefix in ("/api/", "/cas/api/"):
        body = services.mdca_client.get(f"{prefix}discovery/streams/", headers=auth(services)).json
        assert [s["_id"] for s in body["streams"]] == [s.id for s in services.tenant.streams]
        snapshot = next(s for s in body["streams"] if s["streamType"] == 5)
        assert snapshot["_id"] == next(s.id for s in services.tenant.streams if s.is_snapshot)
        endpoint = [s for s in body["streams"] if s.get("builtInStreamType") == 1]
        assert len(endpoint) == 1


def test_paging_with_skip_and_limit(services):
    """limit pages through every app; hasNext turns false at the end; total counts all."""
    stream = services.tenant.streams[0]
    want = [a.id for a in services.tenant.apps("P90D", stream.id)]
    got, skip = [], 0
    while True:
        page = post_apps(services, streamId=stream.id, skip=skip, limit=4).json
        assert page["total"] == len(want)
        got.extend(str(a["appId"]) for a in page["data"])
        skip += len(page["data"])
        if not page["hasNext"]:
            break
    assert got == want


def test_limit_is_capped(services_factory):
    """A limit above the cap (100 by default, 5 here) still gives at most the cap."""
    services = services_factory(mdca_page_limit=5)
    stream = next(s for s in services.tenant.streams if s.is_endpoint)
    page = post_apps(services, streamId=stream.id, limit=500).json
    assert len(page["data"]) == 5
    assert page["hasNext"] is True
    assert services_factory().mdca.page_limit == 100


def test_timeframes_and_filters(services):
    """timeframe picks the period; score and users filters apply; sort works."""
    stream = services.tenant.streams[0]
    apps = services.tenant.apps("P7D", stream.id)
    body = post_apps(services, streamId=stream.id, timeframe=7,
                     filters={"score": {"gte": 8}, "users": {"gt": 1}}).json  # fmt: skip
    assert [str(a["appId"]) for a in body["data"]] == [
        a.id for a in apps if a.risk_score >= 8 and a.user_count > 1
    ]
    body = post_apps(
        services, streamId=stream.id, timeframe="30", filters={"score": {"eq": [0, 6]}}
    ).json
    want = [a.id for a in services.tenant.apps("P30D", stream.id) if a.risk_score <= 6]
    assert [str(a["appId"]) for a in body["data"]] == want
    body = post_apps(services, streamId=stream.id, sortField="name", sortDirection="asc").json
    names = [a["name"] for a in body["data"]]
    assert names == sorted(names)


@pytest.mark.parametrize(
    "body",
    [
        {"streamId": None},
        {"streamId": "nope"},
        {"streamId": None, "timeframe": 60},
        {"timeframe": 60},
        {"skip": -1},
        {"filters": {"tag": {"eq": "x"}}},
        {"filters": {"score": {"between": 3}}},
        {"sortField": "color"},
    ],
)
def test_bad_bodies_are_400(services, body):
    """Bad streams, timeframes, paging values, filters and sorts are refused with a detail."""
    payload = {"streamId": services.tenant.streams[0].id, **body}
    payload = {k: v for k, v in payload.items() if v is not None}
    response = post_apps(services, **payload)
    assert response.status_code == 400
    assert response.json["detail"]


def test_wrong_method_and_path(services):
    """GET on the apps list is 405; unknown paths are 404."""
    assert services.mdca_client.get(APPS, headers=auth(services)).status_code == 405
    assert services.mdca_client.get("/api/v1/alerts/", headers=auth(services)).status_code == 404


def test_rate_limit_answers_429_with_retry_after(services_factory):
    """Beyond the per-tenant budget the API answers 429 until the window moves on."""
    services = services_factory(mdca_rate_limit=3, mdca_rate_window=60.0)
    statuses = [services.mdca_client.get("/api/discovery/streams/", headers=auth(services))
                for _ in range(4)]  # fmt: skip
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert "throttled" in statuses[-1].json["detail"]
    assert 1 <= int(statuses[-1].headers["Retry-After"]) <= 60


def test_rate_limit_window_slides(services_factory):
    """Requests are allowed again once the oldest leaves the window (a tiny window here)."""
    from cisync_lib.sandbox.defender._mdca import SlidingWindow

    window = SlidingWindow(2, 0.05)
    assert window.acquire() == 0.0
    assert window.acquire() == 0.0
    wait = window.acquire()
    assert 0 < wait <= 0.05
    import time

    time.sleep(wait + 0.01)
    assert window.acquire() == 0.0
