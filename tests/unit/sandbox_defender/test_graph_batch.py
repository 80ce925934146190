"""The sandbox Graph's JSON batching and throttling, as Graph's docs describe them.

Expectations are written from learn.microsoft.com/graph/json-batching and
/graph/throttling: at most 20 requests; unique ids; relative URLs; the batch
answers 200 while each inner request has its own status (429 with its own
Retry-After); dependsOn orders requests and a failed dependency gives 424.
"""

import pytest

from cisync_lib.sandbox import GraphThrottle
from cisync_lib.sandbox.defender._graph_throttle import GraphThrottler, TokenBucket

BASE = "/security/dataDiscovery/cloudAppDiscovery"
FN = "microsoft.graph.security.aggregatedAppsDetails(period=duration'P30D')"


def post(services, body, version="beta", token=None):
    token = token or services.token()
    return services.graph_client.post(
        f"/{version}/$batch", json=body, headers={"Authorization": f"Bearer {token}"}
    )


def users_urls(services, count):
    """Relative URLs of the users of ``count`` apps (of non-snapshot streams)."""
    urls = []
    for stream in services.tenant.streams:
        for app in services.tenant.apps("P30D", stream.id):
            urls.append(f"{BASE}/uploadedStreams/{stream.id}/{FN}/{app.id}/users")
    assert len(urls) >= count
    return urls[:count]


def batch(urls):
    return {"requests": [{"id": str(i), "method": "GET", "url": u} for i, u in enumerate(urls)]}


def by_id(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return {r["id"]: r for r in response.json["responses"]}


def test_each_inner_request_is_answered_as_a_plain_get_would_be(services):
    urls = users_urls(services, 5)
    answers = by_id(post(services, batch(urls)))
    assert set(answers) == {str(i) for i in range(5)}
    for i, url in enumerate(urls):
        plain = services.graph_client.get(
            "/beta" + url, headers={"Authorization": f"Bearer {services.token()}"}
        )
        assert answers[str(i)]["status"] == 200
        assert answers[str(i)]["body"]["value"] == plain.json["value"]


def test_twenty_requests_are_accepted_and_twenty_one_refused(services):
    urls = users_urls(services, 21)
    assert len(by_id(post(services, batch(urls[:20])))) == 20
    refused = post(services, batch(urls))
    assert refused.status_code == 400
    assert "20" in refused.json["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"requests": [{"id": "1", "method": "GET", "url": "https://graph.microsoft.com/beta/x"}]},
        {
            "requests": [
                {"id": "1", "method": "GET", "url": "/a"},
                {"id": "1", "method": "GET", "url": "/b"},
            ]
        },
        {
            "requests": [
                {"id": "A", "method": "GET", "url": "/a"},
                {"id": "a", "method": "GET", "url": "/b"},
            ]
        },
        {"requests": [{"id": "1", "method": "GET", "url": "/a", "dependsOn": ["9"]}]},
        {"requests": []},
        {"value": []},
    ],
    ids=["absolute-url", "duplicate-id", "ids-ignore-case", "unknown-dependency", "empty", "shape"],
)
def test_a_malformed_batch_is_a_400_for_the_whole_batch(services, body):
    response = post(services, body)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "BadRequest"


def test_a_version_prefix_inside_a_batch_is_an_inner_400(services):
    url = users_urls(services, 1)[0]
    answers = by_id(post(services, batch(["/beta" + url])))
    assert answers["0"]["status"] == 400
    assert "beta" in answers["0"]["body"]["error"]["message"]


def test_depends_on_runs_in_order_and_a_failed_dependency_gives_424(services):
    url = users_urls(services, 1)[0]
    body = {
        "requests": [
            {"id": "3", "method": "GET", "url": url, "dependsOn": ["2"]},
            {"id": "2", "method": "GET", "url": f"{BASE}/uploadedStreams/nope", "dependsOn": ["1"]},
            {"id": "1", "method": "GET", "url": url},
        ]
    }
    answers = by_id(post(services, body))
    assert [answers[k]["status"] for k in ("1", "2", "3")] == [200, 404, 424]


def test_only_gets_are_served_inside_and_the_envelope_needs_post(services):
    url = users_urls(services, 1)[0]
    answers = by_id(post(services, {"requests": [{"id": "1", "method": "DELETE", "url": url}]}))
    assert answers["1"]["status"] == 405
    got = services.graph_client.get(
        "/beta/$batch", headers={"Authorization": f"Bearer {services.token()}"}
    )
    assert got.status_code == 405


def test_the_envelope_needs_a_token(services):
    response = services.graph_client.post("/beta/$batch", json=batch(["/x"]))
    assert response.status_code == 401


def test_inner_requests_are_throttled_one_by_one_with_their_own_retry_after(services_factory):
    sandbox = services_factory(graph_throttle=GraphThrottle(requests=1, period=60.0, burst=3))
    urls = users_urls(sandbox, 5)
    response = post(sandbox, batch(urls))
    answers = by_id(response)  # the batch itself is a 200
    statuses = sorted(a["status"] for a in answers.values())
    assert statuses == [200, 200, 200, 429, 429]
    for answer in answers.values():
        if answer["status"] == 429:
            assert answer["body"]["error"]["code"] == "TooManyRequests"
            assert 1 <= int(answer["headers"]["Retry-After"]) <= 60
    plain = sandbox.graph_client.get(
        "/beta" + urls[0], headers={"Authorization": f"Bearer {sandbox.token()}"}
    )
    assert plain.status_code == 429
    assert int(plain.headers["Retry-After"]) >= 1
    assert (sandbox.graph.throttler.allowed, sandbox.graph.throttler.throttled) == (3, 3)


def test_a_policy_for_one_app_leaves_the_others_alone():
    clock = [0.0]
    throttler = GraphThrottler(
        None, {"slow-app": GraphThrottle(requests=1, period=10.0)}, clock=lambda: clock[0]
    )
    assert [throttler.check("t", "slow-app") for _ in range(2)] == [0, 10]
    assert [throttler.check("t", "other-app") for _ in range(50)] == [0] * 50
    assert throttler.check("other-tenant", "slow-app") == 0  # buckets are per tenant too
    clock[0] = 10.0
    assert throttler.check("t", "slow-app") == 0


def test_the_token_bucket_allows_its_burst_then_its_rate():
    bucket = TokenBucket(rate=2.5, capacity=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.4)
    assert bucket.take(0.4) == 0.0
    granted = sum(bucket.take(0.4 + t / 100) == 0.0 for t in range(1, 6001))  # 60 s more
    assert 149 <= granted <= 150  # 2.5 per second, never more (float rounding at the edge)


def test_a_relative_url_without_a_leading_slash_is_served(services):
    """The JSON-batching docs' own example sends ``"url": "users?$select=..."``: no slash."""
    url = users_urls(services, 1)[0]
    answers = by_id(post(services, batch([url, url.lstrip("/")])))
    assert answers["0"]["status"] == answers["1"]["status"] == 200
    assert answers["1"]["body"]["value"] == answers["0"]["body"]["value"]
