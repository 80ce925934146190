"""msal, unmodified, against the sandbox's Entra authority over HTTPS; Graph checks the tokens."""

import pytest

from cisync_lib.sandbox import Sandbox, SandboxConfig

from .conftest import BASE, make_session, msal_app


@pytest.fixture(scope="module")
def sb():
    with Sandbox(SandboxConfig(services=("entra", "graph", "mdca"), size="tiny")) as sandbox:
        yield sandbox


def graph_streams(sb, token):
    session = make_session(sb)
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return session.get(f"{sb.graph_url}{BASE}/uploadedStreams", headers=headers, timeout=10)


def test_client_secret(sb):
    """A client secret gets a Graph token that Graph accepts."""
    result = msal_app(sb, sb.client_secret).acquire_token_for_client([sb.graph_scope])
    assert result["token_type"] == "Bearer"
    assert result["token_source"] == "identity_provider"
    response = graph_streams(sb, result["access_token"])
    assert response.status_code == 200
    assert len(response.json()["value"]) == len(sb.tenant.streams)


def test_certificate_pem_and_thumbprint(sb):
    """A PEM key with the SHA-1 thumbprint (RS256, x5t) gets a token."""
    cert = sb.client_certificate
    credential = {"private_key": cert.private_key_pem, "thumbprint": cert.thumbprint}
    result = msal_app(sb, credential).acquire_token_for_client([sb.graph_scope])
    assert "access_token" in result, result
    assert graph_streams(sb, result["access_token"]).status_code == 200


def test_certificate_pem_with_public_certificate(sb):
    """A PEM key with the certificate (PS256, x5t#S256 and x5c) gets a token."""
    cert = sb.client_certificate
    credential = {"private_key": cert.private_key_pem, "public_certificate": cert.certificate_pem}
    result = msal_app(sb, credential).acquire_token_for_client([sb.graph_scope])
    assert "access_token" in result, result


def test_certificate_pfx(sb):
    """A PFX file with its passphrase gets a token."""
    cert = sb.client_certificate
    credential = {"private_key_pfx_path": str(cert.pfx_path), "passphrase": cert.pfx_passphrase}
    result = msal_app(sb, credential).acquire_token_for_client([sb.graph_scope])
    assert "access_token" in result, result


def test_wrong_secret_is_invalid_client(sb):
    """A wrong secret: msal returns Entra's invalid_client with AADSTS7000215."""
    result = msal_app(sb, "not-the-secret").acquire_token_for_client([sb.graph_scope])
    assert result["error"] == "invalid_client"
    assert result["error_description"].startswith("AADSTS7000215")
    assert result["correlation_id"]


def test_unknown_client_is_unauthorized_client(sb):
    """An unknown application id: AADSTS700016."""
    import msal

    app = msal.ConfidentialClientApplication(
        "11111111-2222-3333-4444-555555555555", client_credential="x", authority=sb.authority,
        instance_discovery=False, http_client=make_session(sb), http_cache={},
    )  # fmt: skip
    result = app.acquire_token_for_client([sb.graph_scope])
    assert result["error"] == "unauthorized_client"
    assert "AADSTS700016" in result["error_description"]


def test_unknown_tenant_fails_at_construction(sb):
    """msal cannot discover an authority for an unknown tenant."""
    import msal

    with pytest.raises(ValueError, match="authority"):
        msal.ConfidentialClientApplication(
            sb.client_id, client_credential=sb.client_secret,
            authority=sb.authority.rsplit("/", 1)[0] + "/not-a-tenant",
            instance_discovery=False, http_client=make_session(sb), http_cache={},
        )  # fmt: skip


def test_cached_token_is_reused(sb):
    """msal's cache serves the second call: one token request reaches the authority."""
    app = msal_app(sb, sb.client_secret)
    mark = sb.request_log.mark()
    first = app.acquire_token_for_client([sb.graph_scope])
    second = app.acquire_token_for_client([sb.graph_scope])
    assert second["token_source"] == "cache"
    assert first["access_token"] == second["access_token"]
    assert sb.request_log.round_trips("entra", "POST", since=mark) == 1


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (None, "Access token is empty."),
        ("expired", "Lifetime validation failed, the token is expired."),
        ("mdca", "Invalid audience."),
    ],
)
def test_graph_refuses_bad_tokens(sb, token, message):
    """Missing, expired and wrong-audience tokens get 401 with Graph's error JSON."""
    if token == "expired":
        token = sb.issue_access_token(lifetime=-60)
    elif token == "mdca":
        scope = "05a65629-4c1b-48c1-a78b-804c4abdd4af/.default"
        token = msal_app(sb, sb.client_secret).acquire_token_for_client([scope])["access_token"]
    response = graph_streams(sb, token)
    assert response.status_code == 401
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("InvalidAuthenticationToken", message)
    assert error["innerError"]["request-id"] == response.headers["request-id"]


def test_mdca_accepts_token_and_entra_bearer(sb):
    """The legacy API takes its Token key and an Entra token for its resource."""
    session = make_session(sb)
    ok = session.get(
        f"{sb.mdca_url}/discovery/streams/", headers={"Authorization": f"Token {sb.mdca_token}"}
    )
    assert ok.status_code == 200
    scope = "05a65629-4c1b-48c1-a78b-804c4abdd4af/.default"
    token = msal_app(sb, sb.client_secret).acquire_token_for_client([scope])["access_token"]
    bearer = session.get(
        f"{sb.mdca_url}/discovery/streams/", headers={"Authorization": f"Bearer {token}"}
    )
    assert bearer.json() == ok.json()


def test_connection_info_has_the_defender_keys(sb):
    """What `cisync sandbox serve --json` prints for the Defender side."""
    info = sb.connection_info()
    for key in (
        "authority",
        "tenant_id",
        "client_id",
        "client_secret",
        "graph_url",
        "mdca_url",
        "mdca_token",
    ):
        assert info[key], key
    assert info["authority"] == sb.authority
    assert info["mdca_url"] == sb.mdca_url
    assert info["mdca_url"].endswith("/api")
