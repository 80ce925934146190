"""Connection construction: trust settings, credentials hygiene, error translation."""

import pytest
import requests
from pysnc import exceptions as snc_exc

from cisync_lib import ConfigError, ServiceNowAuthError, ServiceNowRequestError, UnsafeQueryError
from cisync_lib.servicenow import (
    BasicAuth,
    OAuthClientCredentials,
    OAuthPassword,
    ServiceNowConnection,
)
from cisync_lib.servicenow._pysnc import _raise


def test_session_ignores_environment(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent.pem")
    conn = ServiceNowConnection(
        "https://x.example/", auth=BasicAuth(username="u", password="p"), verify="/ca.pem"
    )
    assert conn.session.trust_env is False
    assert conn.session.verify == "/ca.pem"
    assert conn.instance_url == "https://x.example"
    assert conn.user_name == "u"
    assert conn.request_count == 0


def test_secrets_not_in_repr():
    for auth in (
        BasicAuth(username="u", password="hunter2"),
        OAuthClientCredentials(client_id="c", client_secret="hunter2"),
        OAuthPassword(client_id="c", client_secret="hunter2", username="u", password="hunter2"),
    ):
        assert "hunter2" not in repr(auth)
        conn = ServiceNowConnection("https://x.example", auth=auth)
        assert "hunter2" not in repr(conn)


def test_client_credentials_has_no_user():
    conn = ServiceNowConnection(
        "https://x.example", auth=OAuthClientCredentials(client_id="c", client_secret="s")
    )
    assert conn.user_name is None


@pytest.mark.parametrize("url", ["http://x.example", "x.example"])
def test_https_only(url):
    with pytest.raises(ConfigError, match="https"):
        ServiceNowConnection(url, auth=BasicAuth(username="u", password="p"))


def test_query_refuses_orderby():
    conn = ServiceNowConnection("https://x.example", auth=BasicAuth(username="u", password="p"))
    with pytest.raises(UnsafeQueryError):
        list(conn.query("t", query="a=1^ORDERBYname"))
    with pytest.raises(UnsafeQueryError):
        list(conn.query("t", query="a=1^NQb=2"))


def _translate(exc, operation="insert", status=None):
    with pytest.raises((ServiceNowAuthError, ServiceNowRequestError)) as info:
        _raise(exc, operation, "cmdb_ci_business_app", "abc", "https://x", lambda: (status, ""))
    return info.value


def test_translate_role():
    err = _translate(snc_exc.RoleException({"error": {"message": "no role"}}))
    assert isinstance(err, ServiceNowAuthError)
    assert err.status == 403


def test_translate_request_exception_uses_last_status():
    err = _translate(
        snc_exc.RequestException({"error": {"message": "bad", "detail": "x"}}), status=400
    )
    assert (err.status, err.table, err.sys_id, err.detail) == (
        400,
        "cmdb_ci_business_app",
        "abc",
        "bad: x",
    )
    assert not err.outcome_unknown


def test_translate_read_timeout_on_write_is_unknown():
    err = _translate(requests.ReadTimeout("slow"))
    assert err.outcome_unknown
    assert "outcome unknown" in str(err)


def test_translate_read_timeout_on_read_is_known():
    assert not _translate(requests.ReadTimeout("slow"), operation="query").outcome_unknown


def test_translate_connect_timeout_is_known():
    assert not _translate(requests.ConnectTimeout("never sent")).outcome_unknown


def test_translate_retry_error_status():
    err = _translate(
        requests.exceptions.RetryError(
            "Max retries exceeded (Caused by ResponseError('too many 503 error responses'))"
        ),
        operation="query",
    )
    assert err.status == 503
