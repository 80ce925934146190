"""Access tokens the sandbox's Entra authority issues and Graph and the MDCA API check.

Tokens are RS256 JWTs shaped like Entra's app-only v1 tokens (``aud``,
``iss`` = ``https://sts.windows.net/<tenant>/``, ``appid``, ``roles``, ...),
signed with a key made at start and published as the authority's JWKS.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Collection, Mapping
from typing import Any

import jwt
from attrs import frozen
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = [
    "GRAPH_APP_ID",
    "GRAPH_AUDIENCE",
    "MDCA_APP_ID",
    "RESOURCES",
    "Resource",
    "TokenAuthority",
    "TokenProblem",
]

GRAPH_AUDIENCE = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
#: the "Microsoft Cloud App Security" resource app (legacy REST with Entra tokens).
MDCA_APP_ID = "05a65629-4c1b-48c1-a78b-804c4abdd4af"


@frozen
class Resource:
    """A resource an app-only token can be issued for."""

    audience: str
    roles: tuple[str, ...]


#: resource identifiers (the part of a scope before ``/.default``) the authority knows.
RESOURCES: Mapping[str, Resource] = {
    GRAPH_AUDIENCE: Resource(GRAPH_AUDIENCE, ("CloudApp-Discovery.Read.All",)),
    GRAPH_APP_ID: Resource(GRAPH_AUDIENCE, ("CloudApp-Discovery.Read.All",)),
    MDCA_APP_ID: Resource(MDCA_APP_ID, ("Discovery.read",)),
}


class TokenProblem(Exception):
    """An access token was refused; the message is what Graph would say."""


class TokenAuthority:
    """Signs and checks the sandbox's access tokens.

    Args:
        tenant_id: the tenant the tokens are issued in.
        lifetime: default validity in seconds.
    """

    def __init__(self, tenant_id: str, lifetime: int) -> None:
        self.tenant_id = tenant_id
        self.lifetime = lifetime
        self.issuer = f"https://sts.windows.net/{tenant_id}/"
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        # clients send the same token for an hour: remember the claims of checked tokens
        self._checked: dict[str, dict[str, Any]] = {}

    def issue(
        self,
        *,
        client_id: str,
        resource: Resource,
        certificate: bool = False,
        lifetime: int | None = None,
    ) -> str:
        """An app-only access token for ``client_id`` and ``resource``.

        Args:
            client_id: the app the token is for.
            resource: the audience and roles.
            certificate: the app authenticated with a certificate (``appidacr`` 2).
            lifetime: seconds of validity (negative gives an expired token).
        """
        now = int(time.time())
        span = self.lifetime if lifetime is None else lifetime
        object_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sp:{self.tenant_id}:{client_id}"))
        claims = {
            "aud": resource.audience,
            "iss": self.issuer,
            "iat": now - 5,
            "nbf": now - 5,
            "exp": now + span,
            "appid": client_id,
            "appidacr": "2" if certificate else "1",
            "app_displayname": "cisync sandbox",
            "idp": self.issuer,
            "idtyp": "app",
            "oid": object_id,
            "sub": object_id,
            "roles": list(resource.roles),
            "tid": self.tenant_id,
            "uti": uuid.uuid4().hex[:22],
            "ver": "1.0",
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def verify(self, token: str, audiences: Collection[str]) -> dict[str, Any]:
        """The claims of a valid token for one of ``audiences``.

        Raises:
            TokenProblem: with Graph's wording for an expired, foreign or broken token.
        """
        known = self._checked.get(token)
        if known is not None and known["exp"] > time.time() and known["aud"] in audiences:
            return known
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key.public_key(),
                algorithms=["RS256"],
                audience=list(audiences),
                issuer=self.issuer,
                options={"require": ["exp", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenProblem("Lifetime validation failed, the token is expired.") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenProblem("Invalid audience.") from exc
        except jwt.PyJWTError as exc:
            raise TokenProblem("Access token validation failure.") from exc
        if len(self._checked) > 1000:
            self._checked.clear()
        self._checked[token] = claims
        return claims

    def jwks(self) -> dict[str, Any]:
        """The public signing key as a JSON Web Key Set."""
        numbers = self._key.public_key().public_numbers()

        def b64(value: int) -> str:
            raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        key = {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "n": b64(numbers.n),
            "e": b64(numbers.e),
        }
        return {"keys": [key]}
