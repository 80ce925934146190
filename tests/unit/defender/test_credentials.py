"""Secrets never show: reprs, str, format, pickling; connection and cloud settings."""

import pickle

import pytest

from cisync_lib import ConfigError
from cisync_lib.defender import (
    CLOUDS,
    ClientAssertion,
    ClientCertificate,
    ClientSecret,
    GraphConnection,
    LegacyConnection,
    LegacyToken,
)
from cisync_lib.defender._credentials import Secret

SECRET = "s3cr3t-Value~with.chars"


def test_secret_hides_itself_everywhere():
    """repr, str and f-strings print a mask; reveal() gives the value back."""
    value = Secret(SECRET)
    for shown in (repr(value), str(value), f"{value}", f"{value!r}", format(value, ">10")):
        assert SECRET not in shown
    assert value.reveal() == SECRET
    assert Secret(value) == value
    assert value != Secret("other")
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(value)


@pytest.mark.parametrize(
    "credential",
    [
        ClientSecret(secret=SECRET),
        ClientCertificate.from_pem(SECRET, thumbprint="AB" * 20, passphrase=SECRET),
        ClientCertificate(pfx_path="/x/cert.pfx", passphrase=SECRET),  # from_pfx opens the file
        ClientAssertion(assertion=SECRET),
        LegacyToken(key=SECRET),
    ],
)
def test_credentials_and_connections_never_show_the_secret(credential):
    """No repr of a credential, or of a connection holding it, contains the secret."""
    assert SECRET not in repr(credential)
    if isinstance(credential, LegacyToken):
        conn = LegacyConnection("https://t.portal.cloudappsecurity.com/api", credential=credential)
    else:
        conn = GraphConnection("tenant", "client", credential=credential)
    assert SECRET not in repr(conn)
    assert SECRET not in str(conn)


def test_a_proxy_password_never_shows_in_a_connection_repr():
    """Proxies may carry credentials in their URL; reprs mask the password."""
    proxies = {"https": f"http://svc-cisync:{SECRET}@proxy.contoso.com:3128"}
    graph = GraphConnection(
        "tenant", "client", credential=ClientSecret(secret="x"), proxies=proxies
    )
    legacy = LegacyConnection(
        "https://t.portal.cloudappsecurity.com/api",
        credential=LegacyToken(key="x"),
        proxies=proxies,
    )
    for conn in (graph, legacy):
        assert SECRET not in repr(conn)
        assert "svc-cisync:***@proxy.contoso.com:3128" in repr(conn)
        assert conn.proxies == proxies  # the value itself is untouched


def test_certificate_needs_exactly_one_key_form():
    """PEM and PFX are exclusive; a PEM key needs its thumbprint or certificate."""
    with pytest.raises(ConfigError, match="either"):
        ClientCertificate(private_key_pem="k", pfx_path="x.pfx", thumbprint="aa")
    with pytest.raises(ConfigError, match="thumbprint"):
        ClientCertificate.from_pem("k")
    assert ClientCertificate.from_pem("k", certificate_pem="CERT").thumbprint is None


def test_empty_secrets_are_refused():
    """An empty secret (an unset environment variable) is a configuration error."""
    with pytest.raises(ConfigError, match="empty"):
        ClientSecret(secret="")
    with pytest.raises(ConfigError, match="empty"):
        LegacyToken(key="")


def test_assertion_may_be_a_callable():
    """A callable assertion is kept as is (msal calls it per token request)."""

    def make():
        return "jwt"

    assert ClientAssertion(assertion=make).assertion is make


def test_endpoints_default_to_the_public_cloud_and_can_be_overridden():
    """Authority, Graph root and scope come from the cloud preset unless overridden."""
    conn = GraphConnection("contoso.com", "c", credential=ClientSecret(secret="x"))
    assert conn.authority == "https://login.microsoftonline.com/contoso.com"
    assert conn.graph_root == "https://graph.microsoft.com"
    assert conn.scope == "https://graph.microsoft.com/.default"
    gov = GraphConnection("t", "c", credential=ClientSecret(secret="x"), cloud=CLOUDS["us_gov"])
    assert (gov.authority, gov.scope) == (
        "https://login.microsoftonline.us/t",
        "https://graph.microsoft.us/.default",
    )
    assert set(CLOUDS) == {"public", "us_gov", "us_gov_dod"}
    local = GraphConnection(
        "t",
        "c",
        credential=ClientSecret(secret="x"),
        authority_host="https://127.0.0.1:8443/",
        graph_url="https://127.0.0.1:9443/",
        graph_scope="api://x/.default",
    )
    assert (local.authority, local.graph_root, local.scope) == (
        "https://127.0.0.1:8443/t",
        "https://127.0.0.1:9443",
        "api://x/.default",
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"authority_host": "http://login.example"},
        {"graph_url": "graph.microsoft.com"},
    ],
)
def test_plain_http_endpoints_are_refused(kwargs):
    """Tokens only travel over HTTPS."""
    with pytest.raises(ConfigError, match="https"):
        GraphConnection("t", "c", credential=ClientSecret(secret="x"), **kwargs)


@pytest.mark.parametrize("tenant", ["", "a/b", " t"])
def test_bad_tenants_are_refused(tenant):
    """The tenant becomes a path segment of the authority; it must be one."""
    with pytest.raises(ConfigError, match="tenant"):
        GraphConnection(tenant, "c", credential=ClientSecret(secret="x"))


def test_legacy_bearer_needs_tenant_and_client():
    """An Entra ID credential on the legacy API needs the app registration's ids."""
    with pytest.raises(ConfigError, match="tenant_id"):
        LegacyConnection("https://t.example/api", credential=ClientSecret(secret="x"))
    conn = LegacyConnection(
        "https://t.example/api", credential=ClientSecret(secret="x"), tenant_id="t", client_id="c"
    )
    assert conn.graph_like().scope == "05a65629-4c1b-48c1-a78b-804c4abdd4af/.default"
    assert conn.http.rate_limit is not None
    assert (conn.http.rate_limit.calls, conn.http.rate_limit.period) == (30, 60.0)


def test_paths_may_be_path_objects(tmp_path):
    """verify and token_cache_path accept pathlib paths and keep them as strings."""
    conn = GraphConnection(
        "t",
        "c",
        credential=ClientSecret(secret="x"),
        verify=tmp_path / "ca.pem",
        token_cache_path=tmp_path / "cache.json",
    )
    assert conn.verify == str(tmp_path / "ca.pem")
    assert conn.token_cache_path == str(tmp_path / "cache.json")
    assert (
        GraphConnection("t", "c", credential=ClientSecret(secret="x"), verify=False).verify is False
    )
