"""Auth without a network: msal's documented error dicts, credential shapes, app registry keys."""

import os
import stat

import pytest

from cisync_lib import DefenderAuthError
from cisync_lib.defender import (
    ClientAssertion,
    ClientCertificate,
    ClientSecret,
    GraphConnection,
    reset_token_providers,
)
from cisync_lib.defender._auth import (
    TokenProvider,
    _Entry,
    _key,
    _msal_credential,
    auth_error_from_result,
)

# the failure shape msal documents for acquire_token_for_client (it returns, never raises)
INVALID_CLIENT = {
    "error": "invalid_client",
    "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being"
    " sent in the request is the client secret value, not the client secret ID.",
    "error_codes": [7000215],
    "timestamp": "2026-11-27 10:00:00Z",
    "trace_id": "0c2ac7b5-5bd9-4f8e-9f4f-0d4e5c6a0b00",
    "correlation_id": "a3f1c5d2-7b8e-4c2d-9e0f-123456789abc",
}


def conn(credential=None, **kw):
    return GraphConnection(
        "tenant-1", "client-1", credential=credential or ClientSecret(secret="s"), **kw
    )


def test_msal_error_dict_becomes_defender_auth_error():
    """error, error_description and correlation_id are kept and named in the message."""
    err = auth_error_from_result(INVALID_CLIENT)
    assert isinstance(err, DefenderAuthError)
    assert err.error == "invalid_client"
    assert err.error_description.startswith("AADSTS7000215")
    assert err.correlation_id == "a3f1c5d2-7b8e-4c2d-9e0f-123456789abc"
    assert "invalid_client" in str(err)
    assert "correlation id a3f1c5d2" in str(err)


@pytest.mark.parametrize(
    "result",
    [
        {"error": "unauthorized_client", "error_description": "AADSTS700016: not found"},
        {"error": "invalid_scope"},
        {},
        None,
    ],
)
def test_every_failed_result_becomes_an_auth_error(result):
    """A result without an access token is always an error, never a silent empty token."""
    err = auth_error_from_result(result)
    assert err.error
    assert err.correlation_id is None


def test_error_descriptions_are_redacted():
    """A token echoed in a description is masked."""
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    err = auth_error_from_result({"error": "x", "error_description": f"got Bearer {jwt}"})
    assert jwt not in str(err)


def test_credentials_take_msals_shapes():
    """Secret string, PEM key with thumbprint, PFX with passphrase, assertion."""
    assert _msal_credential(conn(ClientSecret(secret="sec"))) == "sec"
    pem = ClientCertificate.from_pem("KEY", thumbprint="ab:cd", passphrase="pw")
    assert _msal_credential(conn(pem)) == {
        "private_key": "KEY",
        "thumbprint": "ABCD",
        "passphrase": "pw",
    }
    chain = ClientCertificate.from_pem("KEY", certificate_pem="CERT")
    assert _msal_credential(conn(chain)) == {"private_key": "KEY", "public_certificate": "CERT"}
    pfx = ClientCertificate(pfx_path="/c.pfx", passphrase="pw", send_certificate_chain=True)
    assert _msal_credential(conn(pfx)) == {
        "private_key_pfx_path": "/c.pfx",
        "passphrase": "pw",
        "public_certificate": True,
    }
    assert _msal_credential(conn(ClientAssertion(assertion="jwt"))) == {"client_assertion": "jwt"}


def test_one_app_per_tenant_client_and_credential():
    """Equal settings share an msal app (and its cache); a new secret gets a new one."""
    assert _key(conn()) == _key(conn())
    assert _key(conn()) != _key(conn(ClientSecret(secret="rotated")))
    assert _key(conn()) != _key(conn(verify="/ca.pem"))


def test_instance_discovery_only_for_microsoft_hosts():
    """A private authority (the sandbox, ADFS-like hosts) gets no instance discovery."""
    assert _key(conn()).instance_discovery is True
    assert _key(conn(authority_host="https://127.0.0.1:8443")).instance_discovery is False
    assert _key(
        conn(authority_host="https://127.0.0.1:8443", instance_discovery=True)
    ).instance_discovery


def test_provider_does_no_io_until_asked():
    """Building a provider (and a source) touches no network."""
    provider = TokenProvider(conn(authority_host="https://127.0.0.1:1"))
    provider.invalidate()  # nothing cached yet: a no-op
    assert provider.scope == "https://graph.microsoft.com/.default"
    reset_token_providers()


class FakeCache:
    """Stands in for msal.SerializableTokenCache's two persistence members."""

    has_state_changed = True

    def serialize(self):
        return '{"AccessToken": {}}'


def test_persistent_cache_is_written_privately(tmp_path):
    """The token cache file is replaced atomically with owner-only permissions."""
    path = tmp_path / "tokens.json"
    entry = _Entry(app=None, session=None, cache=FakeCache(), path=str(path))
    TokenProvider._persist(entry)
    assert path.read_text() == '{"AccessToken": {}}'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert entry.cache.has_state_changed is False
