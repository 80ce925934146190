"""The Entra authority's WSGI app: discovery document, token endpoint and Entra's error wording."""

import time

import jwt
import pytest

BASE = "https://127.0.0.1:8443"


def token_request(services, **form):
    path = f"/{services.entra.tenant_id}/oauth2/v2.0/token"
    return services.entra_client.post(path, base_url=BASE, data=form)


def good_form(services, **extra):
    form = {
        "grant_type": "client_credentials",
        "client_id": services.entra.client_id,
        "client_secret": services.entra.client_secret,
        "scope": "https://graph.microsoft.com/.default",
    }
    form.update(extra)
    return {k: v for k, v in form.items() if v is not None}


def test_discovery_document_has_what_msal_needs(services):
    """issuer shares the authority's scheme and host; endpoints carry the tenant id."""
    tenant = services.entra.tenant_id
    doc = services.entra_client.get(
        f"/{tenant}/v2.0/.well-known/openid-configuration", base_url=BASE
    ).json
    assert doc["issuer"] == f"{BASE}/{tenant}/v2.0"
    assert doc["token_endpoint"] == f"{BASE}/{tenant}/oauth2/v2.0/token"
    assert doc["authorization_endpoint"] == f"{BASE}/{tenant}/oauth2/v2.0/authorize"
    keys = services.entra_client.get(f"/{tenant}/discovery/v2.0/keys", base_url=BASE).json["keys"]
    assert keys[0]["kty"] == "RSA"


def test_unknown_tenant_is_aadsts90002(services):
    """An unknown tenant is refused in discovery like Entra does."""
    response = services.entra_client.get(
        "/nope/v2.0/.well-known/openid-configuration", base_url=BASE
    )
    assert response.status_code == 400
    assert response.json["error_description"].startswith("AADSTS90002: Tenant 'nope' not found.")


def test_client_secret_gives_a_graph_token(services):
    """The token is an app-only JWT for Graph, carrying the discovery role; unknown fields ignored."""
    response = token_request(services, **good_form(services, client_info="1", claims="{}"))
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3599
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["roles"] == ["CloudApp-Discovery.Read.All"]
    assert claims["appid"] == services.entra.client_id
    assert claims["tid"] == services.entra.tenant_id
    assert response.headers["Cache-Control"].startswith("no-store")


@pytest.mark.parametrize(
    ("form", "status", "error", "code"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client", 7000215),
        ({"client_id": "00000000-0000-0000-0000-000000000000"}, 400, "unauthorized_client", 700016),
        ({"grant_type": None}, 400, "invalid_request", 900144),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", 70003),
        ({"client_id": None}, 400, "invalid_request", 900144),
        ({"client_secret": None}, 401, "invalid_client", 7000216),
        ({"scope": None}, 400, "invalid_request", 900144),
        ({"scope": "User.Read"}, 400, "invalid_scope", 1002012),
        ({"scope": "https://example.com/.default"}, 400, "invalid_resource", 500011),
    ],
)
def test_errors_are_worded_as_entra_words_them(services, form, status, error, code):
    """Each refusal has Entra's status, error, AADSTS code, trace and correlation ids."""
    response = token_request(services, **good_form(services, **form))
    assert response.status_code == status
    body = response.json
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert "Trace ID: " in body["error_description"]
    assert body["trace_id"]
    assert body["correlation_id"]


def test_correlation_id_echoes_client_request_id(services):
    """msal's client-request-id header comes back as correlation_id."""
    path = f"/{services.entra.tenant_id}/oauth2/v2.0/token"
    response = services.entra_client.post(
        path, base_url=BASE, data=good_form(services, client_secret="x"),
        headers={"client-request-id": "abc-123"},
    )  # fmt: skip
    assert response.json["correlation_id"] == "abc-123"


def assertion(services, key_pem=None, **claims):
    cert = services.entra.certificate
    now = int(time.time())
    payload = {
        "aud": f"{BASE}/{services.entra.tenant_id}/oauth2/v2.0/token",
        "iss": services.entra.client_id,
        "sub": services.entra.client_id,
        "exp": now + 600,
        "nbf": now - 10,
        "jti": "1",
    }
    payload.update(claims)
    thumb = jwt.utils.base64url_encode(bytes.fromhex(cert.thumbprint)).decode()
    return jwt.encode(
        payload, key_pem or cert.private_key_pem, algorithm="RS256", headers={"x5t": thumb}
    )


def assertion_form(services, token, **extra):
    return good_form(
        services,
        client_secret=None,
        client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion=token,
        **extra,
    )


def test_client_assertion_gives_a_token(services):
    """A JWT signed with the registered certificate's key is accepted."""
    response = token_request(services, **assertion_form(services, assertion(services)))
    assert response.status_code == 200
    claims = jwt.decode(response.json["access_token"], options={"verify_signature": False})
    assert claims["appidacr"] == "2"


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"exp": 1000}, 700024),
        ({"aud": "https://elsewhere/token"}, 50012),
        ({"iss": "someone-else"}, 700021),
    ],
)
def test_bad_assertions_are_refused(services, claims, code):
    """Expired, foreign-audience and wrong-issuer assertions are invalid_client."""
    response = token_request(services, **assertion_form(services, assertion(services, **claims)))
    assert response.status_code == 401
    assert response.json["error_codes"] == [code]


def test_assertion_signed_by_another_key_fails_signature_validation(services, tmp_path):
    """A valid-looking JWT from a different key fails the signature check."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    response = token_request(services, **assertion_form(services, assertion(services, key_pem=pem)))
    assert response.status_code == 401
    assert "failed signature validation" in response.json["error_description"]


def test_garbage_assertion_is_malformed(services):
    """Not a JWT at all: AADSTS50027."""
    response = token_request(services, **assertion_form(services, "not-a-jwt"))
    assert response.json["error_codes"] == [50027]


def test_mdca_scope_gives_an_mdca_token(services):
    """The Cloud App Security resource gets its own audience and role."""
    response = token_request(
        services, **good_form(services, scope="05a65629-4c1b-48c1-a78b-804c4abdd4af/.default")
    )
    claims = jwt.decode(response.json["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "05a65629-4c1b-48c1-a78b-804c4abdd4af"
    assert claims["roles"] == ["Discovery.read"]


def test_connection_info_and_certificate(services):
    """The connection keys and a certificate whose thumbprint is the SHA-1 of the cert."""
    info = services.entra.connection_info(BASE)
    assert info["authority"] == f"{BASE}/{services.entra.tenant_id}"
    assert info["client_secret"] == services.entra.client_secret
    cert = services.entra.certificate
    assert len(cert.thumbprint) == 40
    assert cert.pfx_path.exists()
    assert oct(cert.pfx_path.stat().st_mode & 0o777) == "0o600"
