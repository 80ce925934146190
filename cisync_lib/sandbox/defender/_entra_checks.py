"""Entra's checks on a token request: client assertion, scope, and its error bodies."""

from __future__ import annotations

import base64

import jwt
from werkzeug.wrappers import Response

from ._certs import EntraAppCertificate, public_key
from ._http import json_response, new_id, utc_now_text
from ._tokens import RESOURCES, Resource

__all__ = [
    "JWT_BEARER",
    "Refusal",
    "check_assertion",
    "missing",
    "refusal_response",
    "resource_for",
]

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_RESERVED_SCOPES = {"openid", "profile", "offline_access"}


def b64_thumbprint(hex_digest: str) -> str:
    """A hex thumbprint as the base64url ``x5t`` header value."""
    return base64.urlsafe_b64encode(bytes.fromhex(hex_digest)).decode().rstrip("=")


class Refusal(Exception):
    """A token request Entra would refuse: HTTP status, OAuth error, AADSTS code, message."""

    def __init__(self, status: int, error: str, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.code, self.message = status, error, code, message


def check_assertion(
    assertion: str,
    kind: str | None,
    *,
    audiences: tuple[str, ...],
    client_id: str,
    certificate: EntraAppCertificate,
) -> None:
    """Check a client assertion JWT the way Entra does.

    Raises:
        Refusal: with Entra's error for a bad type, key, signature, time, audience or issuer.
    """
    thumbprints = {
        "x5t": b64_thumbprint(certificate.thumbprint),
        "x5t#S256": b64_thumbprint(certificate.thumbprint_sha256),
    }
    if kind != JWT_BEARER:
        raise Refusal(
            400,
            "invalid_request",
            700025,
            f"The client_assertion_type '{kind}' is not supported; use '{JWT_BEARER}'.",
        )
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError as exc:
        raise malformed() from exc
    # x5t values arrive with or without base64 padding (msal keeps it)
    sent = {name: str(header[name]).rstrip("=") for name in thumbprints if header.get(name)}
    if not sent or any(thumbprints[name] != value for name, value in sent.items()):
        raise Refusal(
            401,
            "invalid_client",
            700027,
            "Client assertion contains an invalid signature. [Reason - The key was "
            f"not found., Thumbprint of key used by client: '{next(iter(sent.values()), '')}']",
        )
    try:
        claims = jwt.decode(
            assertion,
            public_key(certificate),
            algorithms=["RS256", "PS256"],
            audience=list(audiences),
            options={"require": ["exp", "aud", "iss", "sub"]},
        )
    except jwt.InvalidSignatureError as exc:
        raise Refusal(
            401, "invalid_client", 700027, "Client assertion failed signature validation."
        ) from exc
    except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError) as exc:
        raise Refusal(
            401,
            "invalid_client",
            700024,
            "Client assertion is not within its valid time range.",
        ) from exc
    except jwt.InvalidAudienceError as exc:
        raise Refusal(
            401,
            "invalid_client",
            50012,
            "Client assertion audience claim does not match Realm issuer.",
        ) from exc
    except jwt.PyJWTError as exc:
        raise malformed() from exc
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise Refusal(
            401,
            "invalid_client",
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter.",
        )


def refusal_response(refusal: Refusal, correlation: str) -> Response:
    """Entra's JSON error body, with trace and correlation ids."""
    trace, stamp = new_id(), utc_now_text()
    description = (
        f"AADSTS{refusal.code}: {refusal.message} Trace ID: {trace} "
        f"Correlation ID: {correlation} Timestamp: {stamp}Z"
    )
    body = {
        "error": refusal.error,
        "error_description": description,
        "error_codes": [refusal.code],
        "timestamp": f"{stamp}Z",
        "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": f"https://login.microsoftonline.com/error?code={refusal.code}",
    }
    return json_response(body, refusal.status, {"client-request-id": correlation})


def missing(field: str) -> Refusal:
    return Refusal(
        400,
        "invalid_request",
        900144,
        f"The request body must contain the following parameter: '{field}'.",
    )


def malformed() -> Refusal:
    return Refusal(400, "invalid_request", 50027, "JWT token is invalid or malformed.")


def resource_for(scope: str | None) -> Resource:
    if not scope:
        raise missing("scope")
    wanted = [s for s in scope.split() if s not in _RESERVED_SCOPES]
    if len(wanted) != 1 or not wanted[0].endswith("/.default"):
        raise Refusal(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {scope} is not valid. Client credential flows "
            "must have a scope value with /.default suffixed to the resource identifier "
            "(application ID URI).",
        )
    name = wanted[0].removesuffix("/.default").rstrip("/")
    resource = RESOURCES.get(name)
    if resource is None:
        raise Refusal(
            400,
            "invalid_resource",
            500011,
            f"The resource principal named {name} was not found in the tenant named "
            "contoso. This can happen if the application has not been installed by the "
            "administrator of the tenant or consented to by any user in the tenant.",
        )
    return resource
