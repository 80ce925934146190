"""The sandbox's Entra ID authority: OIDC discovery, JWKS and client-credentials tokens.

Enough of ``login.microsoftonline.com`` for msal's ``ConfidentialClientApplication``
(unmodified, ``instance_discovery=False``) to get app-only tokens with a client
secret or a certificate, and errors worded as Entra words them.
"""

from __future__ import annotations

import hmac
import random
import uuid
from collections.abc import Mapping

from werkzeug.wrappers import Request, Response

from cisync_lib.sandbox._server import WsgiApp
from cisync_lib.sandbox._service import SandboxContext

from ._certs import EntraAppCertificate, load_or_make_certificate
from ._entra_checks import Refusal, check_assertion, missing, refusal_response, resource_for
from ._http import json_response, new_id, request_info, serve
from ._tokens import TokenAuthority

__all__ = ["EntraService"]


def _guid(seed: object, purpose: str) -> str:
    return str(
        uuid.UUID(int=random.Random(f"cisync-sandbox:{purpose}:{seed}").getrandbits(128), version=4)
    )


class EntraService:
    """The ``entra`` sandbox service: one tenant with one registered confidential client.

    Args:
        context: what the sandbox gives every service.
    """

    name = "entra"

    def __init__(self, context: SandboxContext) -> None:
        options = context.config.defender
        self.tenant_id = options.tenant_id or _guid(context.config.seed, "tenant")
        self.client_id = options.client_id or _guid(context.config.seed, "client")
        self.client_secret = context.secret("entra_client_secret", options.client_secret)
        self.tenant_domain = "contoso.onmicrosoft.com"
        folder = (context.state_dir or context.work_dir) / "entra"
        self.certificate: EntraAppCertificate = load_or_make_certificate(
            folder, options.pfx_passphrase, "cisync-sandbox-client"
        )
        self.tokens = TokenAuthority(self.tenant_id, options.token_lifetime)

    # --- SandboxService -----------------------------------------------------------

    def wsgi_app(self) -> WsgiApp:
        """The authority's WSGI application."""
        return serve(self._route)

    def error_body(self, status: int, message: str) -> tuple[bytes, str]:
        """An Entra-shaped error body for injected faults."""
        error = "temporarily_unavailable" if status in (429, 503) else "server_error"
        refusal = Refusal(status, error, 90033 if status == 429 else 50000, message)
        response = refusal_response(refusal, new_id())
        return response.get_data(), response.content_type or "application/json"

    def connection_info(self, url: str) -> Mapping[str, str]:
        """The authority, tenant and client credentials."""
        cert = self.certificate
        return {
            "entra_url": url,
            "authority": f"{url}/{self.tenant_id}",
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "client_certificate_pfx": str(cert.pfx_path),
            "client_certificate_thumbprint": cert.thumbprint,
        }

    def close(self) -> None:
        """Nothing to release."""

    # --- the application ----------------------------------------------------------

    def _route(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/", 1)
        tenant, rest = parts[0], parts[1] if len(parts) > 1 else ""
        correlation = request.headers.get("client-request-id") or new_id()
        try:
            if tenant not in (self.tenant_id, self.tenant_domain):
                raise Refusal(
                    400,
                    "invalid_request",
                    90002,
                    f"Tenant '{tenant}' not found. Check to make sure you have the correct "
                    "tenant ID and are signing into the correct cloud.",
                )
            base = request.host_url.rstrip("/")
            if rest == "v2.0/.well-known/openid-configuration" and request.method == "GET":
                return json_response(self._discovery(base))
            if rest == "discovery/v2.0/keys" and request.method == "GET":
                return json_response(self.tokens.jwks())
            if rest == "oauth2/v2.0/token" and request.method == "POST":
                return self._token(request, base, correlation)
            if rest == "oauth2/v2.0/token":
                raise Refusal(
                    400, "invalid_request", 900561, "The endpoint only accepts POST requests."
                )
            if rest.startswith("oauth2/v2.0/authorize"):
                raise Refusal(
                    400,
                    "unsupported_response_type",
                    70005,
                    "The sandbox authority only serves the client credentials grant.",
                )
            return json_response({"error": "not_found", "error_description": request.path}, 404)
        except Refusal as refusal:
            return refusal_response(refusal, correlation)

    def _discovery(self, base: str) -> dict[str, object]:
        root = f"{base}/{self.tenant_id}"
        return {
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{root}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            # msal >= 1.34 checks that the issuer shares the authority's scheme and host
            "issuer": f"{root}/v2.0",
            "request_uri_parameter_supported": False,
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
            "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
        }

    def _token(self, request: Request, base: str, correlation: str) -> Response:
        form = request.form  # unknown fields (client_info, claims, ...) are ignored, as Entra does
        grant = form.get("grant_type")
        if not grant:
            raise missing("grant_type")
        if grant != "client_credentials":
            raise Refusal(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant}'.",
            )
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if request.authorization is not None and request.authorization.type == "basic":
            client_id = client_id or request.authorization.username
            secret = secret or request.authorization.password
        if not client_id:
            raise missing("client_id")
        if client_id != self.client_id:
            raise Refusal(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the "
                f"directory '{self.tenant_domain}'. This can happen if the application "
                "has not been installed by the administrator of the tenant or consented "
                "to by any user in the tenant. You may have sent your authentication "
                "request to the wrong tenant.",
            )
        root = f"{base}/{self.tenant_id}"
        if form.get("client_assertion"):
            check_assertion(
                form["client_assertion"],
                form.get("client_assertion_type"),
                audiences=(f"{root}/oauth2/v2.0/token", f"{root}/v2.0"),
                client_id=self.client_id,
                certificate=self.certificate,
            )
            certificate = True
        elif secret:
            if not hmac.compare_digest(secret.encode(), self.client_secret.encode()):
                raise Refusal(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in "
                    "the request is the client secret value, not the client secret ID, "
                    f"for a secret added to app '{client_id}'.",
                )
            certificate = False
        else:
            raise Refusal(
                401,
                "invalid_client",
                7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the "
                "'client_credentials' grant type.",
            )
        resource = resource_for(form.get("scope"))
        lifetime = self.tokens.lifetime
        token = self.tokens.issue(client_id=client_id, resource=resource, certificate=certificate)
        request_info(request).user = client_id
        body = {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": token,
        }
        headers = {
            "Cache-Control": "no-store, no-cache",
            "Pragma": "no-cache",
            "client-request-id": correlation,
            "x-ms-request-id": new_id(),
        }
        return json_response(body, headers=headers)
