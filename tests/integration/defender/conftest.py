"""A shared small-tenant sandbox (Entra, Graph, legacy MDCA) and connections to it."""

import pytest

from cisync_lib.defender import (
    ClientCertificate,
    ClientSecret,
    GraphConnection,
    HttpPolicy,
    LegacyConnection,
    LegacyToken,
    reset_token_providers,
)
from cisync_lib.defender._limiter import reset_shared_limiters
from cisync_lib.sandbox import DefenderOptions, Sandbox, SandboxConfig

from .truth import PAGE

SERVICES = ("entra", "graph", "mdca")


def start(size, seed=0, **options):
    options.setdefault("graph_page_size", PAGE)
    # distinctive, so the no-secrets test cannot confuse it with a folder name
    options.setdefault("pfx_passphrase", "pfx-Passphrase-9f3b1c")
    config = SandboxConfig(
        services=SERVICES, size=size, seed=seed, defender=DefenderOptions(**options)
    )
    return Sandbox(config).start()


@pytest.fixture(scope="session")
def small_sandbox():
    sb = start("small")
    yield sb
    sb.close()


@pytest.fixture
def sb(small_sandbox):
    """The shared small sandbox with no fault rules."""
    small_sandbox.faults.clear()
    yield small_sandbox
    small_sandbox.faults.clear()


@pytest.fixture(autouse=True)
def _fresh_process_state():
    # every test gets new msal apps (empty token caches) and new request budgets
    reset_token_providers()
    reset_shared_limiters()
    yield
    reset_token_providers()
    reset_shared_limiters()


def credential(sb, kind):
    cert = sb.client_certificate
    if kind == "secret":
        return ClientSecret(secret=sb.client_secret)
    if kind == "pem":
        return ClientCertificate.from_pem(cert.private_key_pem, thumbprint=cert.thumbprint)
    if kind == "pfx":
        return ClientCertificate.from_pfx(str(cert.pfx_path), passphrase=cert.pfx_passphrase)
    raise ValueError(kind)


def graph_connection(sb, kind="secret", **policy):
    """A connection to the sandbox: its authority, Graph and CA; no rate limit unless asked."""
    policy.setdefault("rate_limit", None)
    return GraphConnection(
        sb.tenant_id,
        sb.client_id,
        credential=credential(sb, kind),
        authority_host=sb.authority.rsplit("/", 1)[0],
        graph_url=sb.graph_url,
        graph_scope=sb.graph_scope,
        verify=str(sb.ca_file),
        http=HttpPolicy(**policy),
    )


def legacy_connection(sb, **kw):
    kw.setdefault("credential", LegacyToken(key=sb.mdca_token))
    return LegacyConnection(sb.mdca_url, verify=str(sb.ca_file), **kw)
