"""Defender services as plain WSGI apps, driven by werkzeug's test client (no sockets, no TLS)."""

import threading

import pytest
from werkzeug.test import Client

from cisync_lib.sandbox import DefenderOptions, FaultInjector, RequestLog, SandboxConfig
from cisync_lib.sandbox._service import SandboxContext
from cisync_lib.sandbox.defender import EntraService, GraphService, MdcaService


class Services:
    def __init__(self, tmp_path, size="tiny", **options):
        config = SandboxConfig(size=size, seed=5, defender=DefenderOptions(**options))
        self.context = SandboxContext(
            config=config,
            tls=None,
            faults=FaultInjector(5),
            request_log=RequestLog(),
            stopping=threading.Event(),
            work_dir=tmp_path,
        )
        self.entra = EntraService(self.context)
        self.context.services["entra"] = self.entra
        self.graph = GraphService(self.context)
        self.mdca = MdcaService(self.context)
        self.tenant = self.context.tenant()
        self.entra_client = Client(self.entra.wsgi_app())
        self.graph_client = Client(self.graph.wsgi_app())
        self.mdca_client = Client(self.mdca.wsgi_app())

    def token(self, resource="graph", lifetime=None):
        from cisync_lib.sandbox.defender._tokens import GRAPH_AUDIENCE, MDCA_APP_ID, RESOURCES

        key = GRAPH_AUDIENCE if resource == "graph" else MDCA_APP_ID
        return self.entra.tokens.issue(
            client_id=self.entra.client_id, resource=RESOURCES[key], lifetime=lifetime
        )


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory):
    """One folder for the whole run, so the client certificate is made once."""
    return tmp_path_factory.mktemp("defender")


@pytest.fixture(scope="module")
def services(key_dir):
    """Services over a tiny tenant, shared by a module's read-only tests."""
    return Services(key_dir)


@pytest.fixture
def services_factory(key_dir):
    """Fresh services with other options (rate limits, page sizes, no tenant)."""
    return lambda **kw: Services(key_dir, **kw)
