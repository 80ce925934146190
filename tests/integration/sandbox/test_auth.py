"""Authentication over HTTPS: Basic, OAuth (password and client credentials), roles, rate limit."""

import time

import pysnc
import pytest
import requests
from pysnc.auth import ServiceNowClientCredentialsFlow, ServiceNowPasswordGrantFlow
from pysnc.exceptions import AuthenticationException, RoleException

from cisync_lib.sandbox import RateLimitRule, SandboxConfig, ServiceNowOptions

from .conftest import make_client, make_session, unique


@pytest.fixture
def ca_env(sb, monkeypatch):
    """Point the test process's requests at the sandbox CA.

    pysnc's OAuth flows build their own Session (client credentials even posts the
    token request with a bare ``requests.post``), so the only way to make them
    trust the sandbox without patching pysnc is the documented environment
    variable, set for this test only.
    """
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(sb.ca_file))
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for name in (
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)


def test_missing_or_wrong_credentials_get_401_json(sb):
    """No or bad credentials: 401 with ServiceNow's JSON error body."""
    url = sb.servicenow_url + "/api/now/table/sys_user"
    with requests.Session() as anonymous:
        anonymous.trust_env = False
        anonymous.verify = str(sb.ca_file)
        response = anonymous.get(url)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "User Not Authenticated"
    assert response.json()["status"] == "failure"
    with make_session(sb, password="wrong") as wrong:
        assert wrong.get(url).status_code == 401
    client = make_client(sb, password="wrong")
    with pytest.raises(AuthenticationException):
        client.GlideRecord("sys_user").query()


def test_readonly_user_reads_but_gets_403_on_writes(sb):
    """The read-only user can query; pysnc raises RoleException on its writes."""
    sys_id = sb.store.insert("sys_user", {"user_name": unique("ro")})
    client = make_client(sb, sb.readonly_username, sb.readonly_password)
    gr = client.GlideRecord("sys_user")
    assert gr.get(sys_id)
    gr.title = "nope"
    with pytest.raises(RoleException):
        gr.update()
    with pytest.raises(RoleException):
        gr.delete()
    new = client.GlideRecord("sys_user")
    new.initialize()
    new.user_name = unique("ro-new")
    with pytest.raises(RoleException):
        new.insert()
    assert sb.store.get("sys_user", sys_id)["title"] == ""


@pytest.mark.usefixtures("ca_env")
def test_oauth_client_credentials_with_pysnc(sb):
    """pysnc 1.2.1's client-credentials flow gets a Bearer token and uses it."""
    sys_id = sb.store.insert("sys_user", {"user_name": unique("cc")})
    flow = ServiceNowClientCredentialsFlow(sb.oauth_client_id, sb.oauth_client_secret)
    client = pysnc.ServiceNowClient(sb.servicenow_url, flow)
    gr = client.GlideRecord("sys_user")
    assert gr.get(sys_id)
    gr.title = "via oauth"
    gr.update()
    assert sb.store.get("sys_user", sys_id)["sys_updated_by"] == sb.servicenow_username
    assert sb.request_log.round_trips(path_prefix="/oauth_token.do") == 1


@pytest.mark.usefixtures("ca_env")
def test_oauth_client_credentials_rejects_a_bad_secret(sb):
    """A wrong client secret: the token endpoint answers 401 and pysnc raises."""
    flow = ServiceNowClientCredentialsFlow(sb.oauth_client_id, "wrong")
    with pytest.raises(AuthenticationException):
        pysnc.ServiceNowClient(sb.servicenow_url, flow)


@pytest.mark.usefixtures("ca_env")
def test_oauth_password_grant_with_pysnc(sb):
    """pysnc's password-grant flow (requests-oauthlib) works, as the given user."""
    flow = ServiceNowPasswordGrantFlow(
        sb.readonly_username, sb.readonly_password, sb.oauth_client_id, sb.oauth_client_secret
    )
    client = pysnc.ServiceNowClient(sb.servicenow_url, flow, verify=str(sb.ca_file))
    gr = client.GlideRecord("cmdb_rel_type")
    gr.query()
    assert len(gr) == 7
    gr = client.GlideRecord("sys_user")
    gr.initialize()
    gr.user_name = unique("pw")
    with pytest.raises(RoleException):
        gr.insert()


def test_tokens_expire(cisync_sandbox_factory):
    """A Bearer token stops working after its lifetime; refresh tokens get a new one."""
    # long enough that the first GET lands inside it on a loaded machine; the wait after
    # it runs from before the token was asked for, so it always reaches past the expiry
    lifetime = 3.0
    sb = cisync_sandbox_factory(
        SandboxConfig(servicenow=ServiceNowOptions(token_lifetime=lifetime))
    )
    with make_session(sb) as s:
        s.auth = None
        asked = time.monotonic()
        token = s.post(
            sb.servicenow_url + "/oauth_token.do",
            data={"grant_type": "password", "client_id": sb.oauth_client_id,
                  "client_secret": sb.oauth_client_secret, "username": sb.servicenow_username,
                  "password": sb.servicenow_password},
        ).json()  # fmt: skip
        assert token["token_type"] == "Bearer"
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        url = sb.servicenow_url + "/api/now/table/cmdb_rel_type"
        assert s.get(url, headers=headers).status_code == 200
        time.sleep(max(0.0, asked + lifetime + 0.1 - time.monotonic()))
        assert s.get(url, headers=headers).status_code == 401
        refreshed = s.post(
            sb.servicenow_url + "/oauth_token.do",
            data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"],
                  "client_id": sb.oauth_client_id, "client_secret": sb.oauth_client_secret},
        ).json()  # fmt: skip
        headers = {"Authorization": f"Bearer {refreshed['access_token']}"}
        assert s.get(url, headers=headers).status_code == 200
        bad = s.post(sb.servicenow_url + "/oauth_token.do", data={"grant_type": "implicit"})
        assert bad.status_code == 400


def test_rate_limit_answers_429_with_retry_after(cisync_sandbox_factory):
    """Past the per-user budget: 429, Retry-After and X-RateLimit-* headers."""
    limit = RateLimitRule(requests=3, window_seconds=600)
    sb = cisync_sandbox_factory(SandboxConfig(servicenow=ServiceNowOptions(rate_limit=limit)))
    url = sb.servicenow_url + "/api/now/table/cmdb_rel_type"
    with make_session(sb) as s:
        statuses = [s.get(url).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        response = s.get(url)
        assert response.status_code == 429
        assert 1 <= int(response.headers["Retry-After"]) <= 600
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert int(response.headers["X-RateLimit-Reset"]) > 0
        assert response.json()["error"]["message"] == "Rate limit exceeded"
    with make_session(sb, sb.readonly_username, sb.readonly_password) as other:
        assert other.get(url).status_code == 200  # the budget is per user
