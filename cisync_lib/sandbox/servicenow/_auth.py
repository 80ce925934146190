"""Users, Basic auth, OAuth tokens (``/oauth_token.do``) and the optional per-user rate limit."""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from attrs import frozen

from cisync_lib.sandbox._config import ServiceNowOptions

__all__ = ["RateDecision", "User", "Users"]


@frozen
class User:
    """An authenticated caller."""

    name: str
    writable: bool


@frozen
class RateDecision:
    """Whether a request is within the user's budget, and the headers to send."""

    allowed: bool
    headers: tuple[tuple[str, str], ...] = ()
    retry_after: int = 0


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


class Users:
    """The instance's two users, its OAuth application and the tokens it issued.

    Args:
        options: the ServiceNow options (user names, lifetimes, rate limit).
        secret: returns the configured secret or a generated one, by name.
        demo_admin: also accept the developer instance's ``admin`` login (demo data),
            with a generated password, as another admin-like user.
    """

    def __init__(
        self,
        options: ServiceNowOptions,
        secret: Callable[[str, str | None], str],
        *,
        demo_admin: bool = False,
    ) -> None:
        self.options = options
        self.username = options.username
        self.password = secret("servicenow_password", options.password)
        self.admin: tuple[str, str] | None = None
        if demo_admin and "admin" not in (options.username, options.readonly_username):
            self.admin = ("admin", secret("servicenow_admin_password", None))
        self.readonly_username = options.readonly_username
        self.readonly_password = secret("servicenow_readonly_password", options.readonly_password)
        self.client_id = options.oauth_client_id
        self.client_secret = secret("servicenow_oauth_client_secret", options.oauth_client_secret)
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[User, float]] = {}
        self._refresh: dict[str, User] = {}
        self._windows: dict[str, tuple[float, int]] = {}

    def check_password(self, username: str, password: str) -> User | None:
        """The user if the password is right."""
        if _same(username, self.username) and _same(password, self.password):
            return User(self.username, writable=True)
        if _same(username, self.readonly_username) and _same(password, self.readonly_password):
            return User(self.readonly_username, writable=False)
        if self.admin is not None and _same(username, self.admin[0]):
            return User(self.admin[0], writable=True) if _same(password, self.admin[1]) else None
        return None

    def authenticate(self, authorization: str | None) -> User | None:
        """The caller of a request from its ``Authorization`` header (Basic or Bearer)."""
        if not authorization:
            return None
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
            username, _, password = decoded.partition(":")
            return self.check_password(username, password)
        if scheme.lower() == "bearer":
            with self._lock:
                found = self._tokens.get(credentials.strip())
            if found is not None and found[1] > time.monotonic():
                return found[0]
        return None

    def _client_ok(self, form: Mapping[str, str], authorization: str | None) -> bool:
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        if not client_secret and authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return False
            client_id, _, client_secret = decoded.partition(":")
        return _same(client_id, self.client_id) and _same(client_secret, self.client_secret)

    def token(
        self, form: Mapping[str, str], authorization: str | None
    ) -> tuple[int, dict[str, Any]]:
        """Answer a ``/oauth_token.do`` request: (status, JSON body)."""
        grant = form.get("grant_type", "")
        denied = 401, {"error": "server_error", "error_description": "access_denied"}
        if grant not in ("password", "client_credentials", "refresh_token"):
            return 400, {"error": "unsupported_grant_type", "error_description": grant}
        if not self._client_ok(form, authorization):
            return denied
        user: User | None
        if grant == "password":
            user = self.check_password(form.get("username", ""), form.get("password", ""))
        elif grant == "refresh_token":
            with self._lock:
                user = self._refresh.get(form.get("refresh_token", ""))
        else:  # the OAuth application's own user, as configured on a real instance
            user = User(self.username, writable=True)
        if user is None:
            return denied
        access = secrets.token_urlsafe(32)
        lifetime = self.options.token_lifetime
        body: dict[str, Any] = {
            "access_token": access,
            "scope": "useraccount",
            "token_type": "Bearer",
            "expires_in": max(1, int(lifetime)),
        }
        with self._lock:
            self._tokens[access] = (user, time.monotonic() + lifetime)
            if grant != "client_credentials":
                refresh = secrets.token_urlsafe(32)
                self._refresh[refresh] = user
                body["refresh_token"] = refresh
        return 200, body

    def admit(self, user: User) -> RateDecision:
        """Count a request against the user's rate limit, if one is configured."""
        limit = self.options.rate_limit
        if limit is None:
            return RateDecision(True)
        now = time.monotonic()
        with self._lock:
            start, used = self._windows.get(user.name, (now, 0))
            if now - start >= limit.window_seconds:
                start, used = now, 0
            used += 1
            self._windows[user.name] = (start, used)
        remaining = start + limit.window_seconds - now
        headers = (
            ("X-RateLimit-Limit", str(limit.requests)),
            ("X-RateLimit-Reset", str(int(time.time() + remaining))),
            ("X-RateLimit-Rule", "cisync-sandbox-rate-limit"),
        )
        if used <= limit.requests:
            return RateDecision(True, headers)
        return RateDecision(False, headers, retry_after=max(1, math.ceil(remaining)))
