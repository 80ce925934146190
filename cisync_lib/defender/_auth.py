"""Entra ID app-only tokens through msal: the only module that imports msal.

One :class:`msal.ConfidentialClientApplication` per (authority, client,
credential, transport) is kept in a small private registry so its token
cache is reused across sources and reads; :func:`reset_token_providers`
empties it. msal gets our own :class:`requests.Session` as ``http_client``
(``trust_env=False``, the caller's ``verify``, proxies, timeouts and retries),
so ``REQUESTS_CA_BUNDLE`` cannot override the caller's trust. msal's error
dicts become :class:`~cisync_lib.DefenderAuthError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import msal
import requests
from attrs import frozen

from cisync_lib._atomic import write_atomic
from cisync_lib.errors import ConfigError, DefenderAuthError, DefenderHttpError

from ._config import GraphConnection
from ._credentials import ClientAssertion, ClientCertificate, ClientSecret
from ._http import make_session, redact

__all__ = ["TokenProvider", "reset_token_providers", "token_claims"]

logger = logging.getLogger(__name__)

#: Hosts for which msal's instance discovery (a call to login.microsoftonline.com) makes sense.
_MICROSOFT_AUTHORITY_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.windows.net",
        "login.sts.windows.net",
        "login.microsoftonline.us",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
    }
)


@frozen
class _AppKey:
    authority: str
    client_id: str
    credential: str  # a digest of the credential, never the credential itself
    verify: bool | str
    proxies: tuple[tuple[str, str], ...]
    cache_path: str | None
    instance_discovery: bool


class _Entry:
    """A shared msal app with its session, optional persistent cache and lock."""

    def __init__(self, app: Any, session: requests.Session, cache: Any, path: str | None) -> None:
        self.app = app
        self.session = session
        self.cache = cache
        self.cache_path = path
        self.lock = threading.Lock()


_APPS: dict[_AppKey, _Entry] = {}
_APPS_LOCK = threading.Lock()


def reset_token_providers() -> None:
    """Forget every shared msal app and its in-memory token cache (tests, credential rotation)."""
    with _APPS_LOCK:
        entries = list(_APPS.values())
        _APPS.clear()
    for entry in entries:
        entry.session.close()


class TokenProvider:
    """App-only tokens for one connection and scope, from the shared msal app.

    Nothing happens on construction; the msal app (which does network I/O
    when built) is made on the first :meth:`token` call.

    Args:
        connection: the tenant, client, credential and transport settings.
    """

    def __init__(self, connection: GraphConnection) -> None:
        self._connection = connection
        self._entry: _Entry | None = None

    @property
    def scope(self) -> str:
        """The scope tokens are requested for."""
        return self._connection.scope

    def authorization(self) -> str:
        """The ``Authorization`` header value: ``Bearer <token>``."""
        return "Bearer " + self.token()

    def token(self) -> str:
        """A valid access token (msal's cache first, then Entra ID).

        Raises:
            DefenderAuthError: Entra ID refused (msal's ``error``,
                ``error_description`` and ``correlation_id`` are kept).
            DefenderHttpError: Entra ID could not be reached.
        """
        entry = self._entry or self._build()
        with entry.lock:
            try:
                result = entry.app.acquire_token_for_client(scopes=[self.scope])
            except requests.RequestException as exc:
                raise _unreachable(self._connection, "POST", "oauth2/v2.0/token", exc) from exc
            self._persist(entry)
        if not isinstance(result, dict) or "access_token" not in result:
            raise auth_error_from_result(result)
        logger.debug(
            "token for %s from %s, expires in %s s",
            self.scope,
            result.get("token_source", "?"),
            result.get("expires_in", "?"),
        )
        return str(result["access_token"])

    def invalidate(self) -> None:
        """Drop this client's cached tokens (after a 401), so the next call asks Entra ID."""
        entry = self._entry
        if entry is None:
            return
        with entry.lock:
            entry.app.remove_tokens_for_client()
            self._persist(entry)

    def _build(self) -> _Entry:
        conn = self._connection
        key = _key(conn)
        with _APPS_LOCK:
            entry = _APPS.get(key)
            if entry is None:
                entry = _APPS[key] = _new_entry(conn, key)
        self._entry = entry
        return entry

    @staticmethod
    def _persist(entry: _Entry) -> None:
        if entry.cache_path and entry.cache.has_state_changed:
            write_atomic(entry.cache_path, entry.cache.serialize(), mode=0o600)
            entry.cache.has_state_changed = False


def token_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT access token, read WITHOUT verifying its signature.

    Only for telling an operator what Entra ID granted (``roles``, ``aud``,
    ``tid``); the service that receives the token is the one that verifies it.
    A token that is not a readable JWT gives ``{}``.
    """
    parts = token.split(".")
    if len(parts) < 2:
        return {}
    body = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(body.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def auth_error_from_result(result: object) -> DefenderAuthError:
    """Translate msal's error dict (``error``, ``error_description``, ``correlation_id``)."""
    data: dict[str, Any] = result if isinstance(result, dict) else {}
    correlation = data.get("correlation_id")
    return DefenderAuthError(
        error=str(data.get("error") or "no_access_token"),
        error_description=redact(str(data.get("error_description") or "")),
        correlation_id=str(correlation) if correlation else None,
    )


def _key(conn: GraphConnection) -> _AppKey:
    host = urlsplit(conn.authority).hostname or ""
    discovery = conn.instance_discovery
    if discovery is None:
        discovery = host in _MICROSOFT_AUTHORITY_HOSTS
    return _AppKey(
        authority=conn.authority,
        client_id=conn.client_id,
        credential=_fingerprint(conn.credential),
        verify=conn.verify,
        proxies=tuple(sorted(conn.proxies.items())),
        cache_path=os.path.abspath(conn.token_cache_path) if conn.token_cache_path else None,
        instance_discovery=discovery,
    )


def _new_entry(conn: GraphConnection, key: _AppKey) -> _Entry:
    session = make_session(conn.http, verify=conn.verify, proxies=conn.proxies)
    cache = msal.SerializableTokenCache() if key.cache_path else None
    if cache is not None and key.cache_path and os.path.exists(key.cache_path):
        try:
            with open(key.cache_path, encoding="utf-8") as handle:
                cache.deserialize(handle.read())
        except (OSError, ValueError) as exc:
            raise ConfigError(
                file=key.cache_path,
                problem=f"not a readable msal token cache ({type(exc).__name__})",
            ) from exc
    try:
        app = msal.ConfidentialClientApplication(
            conn.client_id,
            client_credential=_msal_credential(conn),
            authority=conn.authority,
            token_cache=cache,
            http_client=session,
            instance_discovery=key.instance_discovery,
        )
    except requests.RequestException as exc:
        session.close()
        raise _unreachable(conn, "GET", "v2.0/.well-known/openid-configuration", exc) from exc
    except OSError as exc:  # an unreadable PFX file
        session.close()
        raise ConfigError(
            file=getattr(exc, "filename", None), problem=f"cannot read: {exc.strerror}"
        ) from exc
    except ValueError as exc:  # bad authority, tenant, key or passphrase
        session.close()
        raise DefenderAuthError(
            error="invalid_configuration", error_description=redact(str(exc))[:300]
        ) from exc
    logger.debug("msal app for client %s at %s ready", conn.client_id, conn.authority)
    return _Entry(app, session, cache, key.cache_path)


def _unreachable(
    conn: GraphConnection, method: str, path: str, exc: requests.RequestException
) -> DefenderHttpError:
    reason = exc.args[0] if exc.args else exc
    reason = getattr(reason, "reason", None) or reason
    return DefenderHttpError(
        request=f"{method} {conn.authority}/{path}",
        status=None,
        detail=f"Entra ID unreachable ({type(reason).__name__}: {redact(str(reason))[:200]})",
    )


def _msal_credential(conn: GraphConnection) -> str | dict[str, Any]:
    cred = conn.credential
    if isinstance(cred, ClientSecret):
        return cred.secret.reveal()
    if isinstance(cred, ClientAssertion):
        assertion = cred.assertion
        return {"client_assertion": assertion if callable(assertion) else assertion.reveal()}
    out: dict[str, Any] = {}
    if cred.passphrase is not None:
        out["passphrase"] = cred.passphrase.reveal()
    if cred.pfx_path is not None:
        out["private_key_pfx_path"] = cred.pfx_path
        if cred.send_certificate_chain:
            out["public_certificate"] = True
        return out
    assert cred.private_key_pem is not None  # guaranteed by ClientCertificate
    out["private_key"] = cred.private_key_pem.reveal()
    if cred.thumbprint:
        out["thumbprint"] = cred.thumbprint.replace(":", "").upper()
    if cred.certificate_pem and (cred.send_certificate_chain or not cred.thumbprint):
        out["public_certificate"] = cred.certificate_pem
    return out


def _fingerprint(cred: ClientSecret | ClientCertificate | ClientAssertion) -> str:
    parts: list[str] = [type(cred).__name__]
    if isinstance(cred, ClientSecret):
        parts.append(cred.secret.fingerprint())
    elif isinstance(cred, ClientAssertion):
        assertion: Callable[[], str] | Any = cred.assertion
        parts.append(str(id(assertion)) if callable(assertion) else assertion.fingerprint())
    else:
        for value in (cred.private_key_pem, cred.passphrase):
            parts.append(value.fingerprint() if value is not None else "-")
        parts.extend(
            [
                cred.thumbprint or "-",
                cred.certificate_pem or "-",
                cred.pfx_path or "-",
                str(cred.send_certificate_chain),
            ]
        )
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()
