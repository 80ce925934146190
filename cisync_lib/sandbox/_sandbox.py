"""The :class:`Sandbox`: starts each configured service on its own HTTPS port."""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Literal

import attrs

from cisync_lib import SandboxError

from ._config import SandboxConfig
from ._faults import FaultInjector
from ._gate import TransactionGate
from ._log import RequestLog
from ._middleware import ServiceMiddleware
from ._server import HttpsServer
from ._service import SandboxContext, SandboxService, ServiceBuilder
from ._tenant import GeneratedTenant, SnapshotTenant
from ._tls import TlsMaterial, make_tls
from .defender import EntraAppCertificate, EntraService, GraphService, MdcaService
from .defender._tokens import GRAPH_AUDIENCE, MDCA_APP_ID, RESOURCES
from .servicenow import ServiceNowService, ServiceNowStore

__all__ = ["SERVICE_BUILDERS", "Sandbox"]

logger = logging.getLogger(__name__)

#: the builder of every known service, by name (``SandboxConfig.services`` picks them).
#: Adding a service: write a class satisfying ``SandboxService`` whose constructor takes a
#: ``SandboxContext``, add it here and its name to ``SERVICE_NAMES``.
SERVICE_BUILDERS: Mapping[str, ServiceBuilder] = MappingProxyType(
    {
        "servicenow": ServiceNowService,
        "entra": EntraService,
        "graph": GraphService,
        "mdca": MdcaService,
    }
)


@attrs.frozen
class _Running:
    service: SandboxService
    server: HttpsServer


class Sandbox:
    """A local ServiceNow instance (and, with part 2, a Defender tenant) over real HTTPS.

    Use it as a context manager::

        with Sandbox() as sb:
            session = requests.Session()
            session.trust_env = False
            session.verify = str(sb.ca_file)
            session.auth = (sb.servicenow_username, sb.servicenow_password)
            client = pysnc.ServiceNowClient(sb.servicenow_url, auth=session)

    Args:
        config: what to start; the default starts every service in memory: an empty
            ServiceNow instance and a Defender tenant with no streams (``size`` generates one).
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.request_log = RequestLog()
        self.faults = FaultInjector(self.config.seed)
        self._stopping = threading.Event()
        self._running: dict[str, _Running] = {}
        self._work: tempfile.TemporaryDirectory[str] | None = None
        self._context: SandboxContext | None = None

    # --- life cycle ------------------------------------------------------------

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> Sandbox:
        """Create the CA, build every configured service and start serving; returns self."""
        if self._context is not None:
            raise SandboxError(message="this sandbox is already started")
        self._work = tempfile.TemporaryDirectory(prefix="cisync-sandbox-")
        try:
            self._context = SandboxContext(
                config=self.config,
                tls=make_tls(Path(self._work.name)),
                faults=self.faults,
                request_log=self.request_log,
                stopping=self._stopping,
                work_dir=Path(self._work.name),
            )
            for name in self.config.services:
                builder = SERVICE_BUILDERS.get(name)
                if builder is None:
                    raise SandboxError(message=f"no sandbox service is available for {name!r}")
                service = builder(self._context)
                self._context.services[name] = service
                self.mount(service, port=self.config.ports.get(name, 0))
        except BaseException:
            self.close()
            raise
        return self

    def mount(self, service: SandboxService, *, port: int = 0) -> str:
        """Serve one more service on its own HTTPS port, behind the log and faults.

        The configured services are mounted by :meth:`start`; call this for a
        service of your own (its ``name`` must be new).

        Args:
            service: the service to serve.
            port: the port, or 0 for an ephemeral one.

        Returns:
            The service's base URL, ``https://127.0.0.1:PORT``.
        """
        context = self._require_context()
        if service.name in self._running:
            raise SandboxError(message=f"a service named {service.name!r} is already mounted")
        context.services.setdefault(service.name, service)
        app = ServiceMiddleware(
            service.name,
            service.wsgi_app(),
            log=self.request_log,
            faults=self.faults,
            stopping=self._stopping,
            error_body=service.error_body,
            gate=getattr(service, "gate", None),
        )
        server = HttpsServer(app, context.tls.server_context, port=port, name=service.name)
        self._running[service.name] = _Running(service, server)
        server.start()
        logger.debug("sandbox service %s listening on %s", service.name, server.url)
        return server.url

    def close(self) -> None:
        """Stop every server, close the services and remove temporary files."""
        self._stopping.set()
        for running in reversed(list(self._running.values())):
            running.server.close()
            running.service.close()
        self._running.clear()
        if self._work is not None:
            self._work.cleanup()
            self._work = None

    def _require_context(self) -> SandboxContext:
        if self._context is None or self._stopping.is_set():
            raise SandboxError(message="the sandbox is not running: use it in a `with` block")
        return self._context

    # --- generic access ----------------------------------------------------------

    @property
    def tls(self) -> TlsMaterial:
        """The run's CA (``tls.ca``, a ``trustme.CA``) and the CA file."""
        return self._require_context().tls

    @property
    def ca_file(self) -> Path:
        """The CA certificate (PEM) that clients pass as ``verify=``."""
        return self.tls.ca_file

    @property
    def services(self) -> tuple[str, ...]:
        """The names of the services being served."""
        return tuple(self._running)

    def service(self, name: str) -> SandboxService:
        """The running service called ``name``."""
        try:
            return self._running[name].service
        except KeyError:
            raise SandboxError(
                message=f"sandbox service {name!r} is not running (running: "
                f"{', '.join(self._running) or 'none'})"
            ) from None

    def url(self, name: str) -> str:
        """The base URL of the service called ``name``."""
        self.service(name)
        return self._running[name].server.url

    def connection_info(self) -> dict[str, str]:
        """Everything a client needs, as printed by ``cisync sandbox serve --json``."""
        info = {"ca_file": str(self.ca_file)}
        for name, running in self._running.items():
            info.update(running.service.connection_info(running.server.url))
            info.setdefault(f"{name}_url", running.server.url)
        return info

    # --- ServiceNow -----------------------------------------------------------------

    def _servicenow(self) -> ServiceNowService:
        service = self.service("servicenow")
        assert isinstance(service, ServiceNowService)
        return service

    @property
    def servicenow_url(self) -> str:
        """The ServiceNow instance URL, ``https://127.0.0.1:PORT``."""
        return self.url("servicenow")

    @property
    def servicenow_username(self) -> str:
        """The admin-like integration user."""
        return self._servicenow().users.username

    @property
    def servicenow_password(self) -> str:
        """The integration user's password."""
        return self._servicenow().users.password

    @property
    def readonly_username(self) -> str:
        """A user who can read everything and gets 403 on every write."""
        return self._servicenow().users.readonly_username

    @property
    def readonly_password(self) -> str:
        """The read-only user's password."""
        return self._servicenow().users.readonly_password

    @property
    def oauth_client_id(self) -> str:
        """The OAuth client id accepted by ``/oauth_token.do``."""
        return self._servicenow().users.client_id

    @property
    def oauth_client_secret(self) -> str:
        """The OAuth client secret accepted by ``/oauth_token.do``."""
        return self._servicenow().users.client_secret

    @property
    def servicenow_gate(self) -> TransactionGate:
        """The instance's session synchronisation and API pool, with what it saw (``stats``)."""
        return self._servicenow().gate

    @property
    def store(self) -> ServiceNowStore:
        """Direct access to the ServiceNow data, bypassing HTTP (the tests' oracle)."""
        return self._servicenow().store

    # --- Defender: Entra, Graph and the legacy API ------------------------------------

    def _entra(self) -> EntraService:
        service = self.service("entra")
        assert isinstance(service, EntraService)
        return service

    def _mdca(self) -> MdcaService:
        service = self.service("mdca")
        assert isinstance(service, MdcaService)
        return service

    @property
    def authority(self) -> str:
        """The msal authority, ``https://127.0.0.1:PORT/<tenant_id>``."""
        return f"{self.url('entra')}/{self._entra().tenant_id}"

    @property
    def tenant_id(self) -> str:
        """The Entra tenant id (a GUID)."""
        return self._entra().tenant_id

    @property
    def client_id(self) -> str:
        """The registered app's client id."""
        return self._entra().client_id

    @property
    def client_secret(self) -> str:
        """The registered app's client secret."""
        return self._entra().client_secret

    @property
    def client_certificate(self) -> EntraAppCertificate:
        """The certificate registered on the app (PEM key and cert, thumbprint, PFX)."""
        return self._entra().certificate

    @property
    def graph_url(self) -> str:
        """Graph's base URL, ``https://127.0.0.1:PORT`` (append ``/beta/security/...``)."""
        return self.url("graph")

    @property
    def graph_scope(self) -> str:
        """The scope Graph tokens must be requested for."""
        return "https://graph.microsoft.com/.default"

    @property
    def mdca_url(self) -> str:
        """The legacy REST API's base URL, ``https://127.0.0.1:PORT/api``."""
        return f"{self.url('mdca')}/api"

    @property
    def mdca_token(self) -> str:
        """The legacy REST API token (``Authorization: Token <key>``)."""
        return self._mdca().token

    @property
    def tenant(self) -> GeneratedTenant | SnapshotTenant | None:
        """The tenant served, generated (``size``) or read from a file (``tenant``), or ``None``."""
        return self._require_context().tenant()

    def issue_access_token(
        self, resource: Literal["graph", "mdca"] = "graph", *, lifetime: int | None = None
    ) -> str:
        """Mint an access token directly, e.g. an expired one (negative ``lifetime``) for tests.

        Args:
            resource: ``graph`` or ``mdca`` (the Cloud App Security resource).
            lifetime: seconds of validity; the configured lifetime when ``None``.
        """
        entra = self._entra()
        key = GRAPH_AUDIENCE if resource == "graph" else MDCA_APP_ID
        return entra.tokens.issue(
            client_id=entra.client_id, resource=RESOURCES[key], lifetime=lifetime
        )
