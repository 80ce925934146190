"""The Defender side of :class:`~cisync_lib.sandbox.Sandbox`: credentials, URLs and tenant."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ._services import SandboxContext, SandboxService
    from ._tenant import GeneratedTenant, SnapshotTenant
    from .defender import ClientCertificate, EntraService, MdcaService

__all__ = ["DefenderAccess"]


class DefenderAccess:
    """Properties of the ``entra``, ``graph`` and ``mdca`` services (mixed into ``Sandbox``)."""

    if TYPE_CHECKING:

        def service(self, name: str) -> SandboxService:
            """Provided by ``Sandbox``."""

        def url(self, name: str) -> str:
            """Provided by ``Sandbox``."""

        def _require_context(self) -> SandboxContext:
            """Provided by ``Sandbox``."""

    def _entra(self) -> EntraService:
        from .defender import EntraService

        service = self.service("entra")
        assert isinstance(service, EntraService)
        return service

    def _mdca(self) -> MdcaService:
        from .defender import MdcaService

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
    def client_certificate(self) -> ClientCertificate:
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
        """The tenant served: generated (``size``), from a file (``tenant``), or ``None``."""
        return self._require_context().tenant()

    def issue_access_token(
        self, resource: Literal["graph", "mdca"] = "graph", *, lifetime: int | None = None
    ) -> str:
        """Mint an access token directly, e.g. an expired one (negative ``lifetime``) for tests.

        Args:
            resource: ``graph`` or ``mdca`` (the Cloud App Security resource).
            lifetime: seconds of validity; the configured lifetime when ``None``.
        """
        from .defender._tokens import GRAPH_AUDIENCE, MDCA_APP_ID, RESOURCES

        entra = self._entra()
        key = GRAPH_AUDIENCE if resource == "graph" else MDCA_APP_ID
        return entra.tokens.issue(
            client_id=entra.client_id, resource=RESOURCES[key], lifetime=lifetime
        )
