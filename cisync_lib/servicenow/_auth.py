"""Credentials for a ServiceNow instance, and OAuth tokens fetched through our own session.

pysnc's OAuth flows cannot be used as they are: the client-credentials flow
fetches its token with a bare ``requests.post`` (no session, so the caller's
``verify`` and proxies are ignored and ``REQUESTS_CA_BUNDLE`` wins), and the
password grant builds its own ``requests_oauthlib.OAuth2Session`` whose
``trust_env`` lets the same environment variables override ``verify``. Both
would also escape our timeouts and request counting. So the token is fetched
here, through the connection's session (``trust_env=False``, explicit
``verify``, timeouts), and attached by a :class:`requests.auth.AuthBase` that
pysnc accepts as the session's auth.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import requests
from attrs import field, frozen

from cisync_lib.errors import ServiceNowAuthError

from ._http import network_detail

__all__ = ["Auth", "BasicAuth", "OAuthClientCredentials", "OAuthPassword", "TokenAuth"]

logger = logging.getLogger(__name__)

_TOKEN_PATH = "/oauth_token.do"
_REFRESH_MARGIN = 60.0  # seconds before expiry a token is renewed


@frozen
class BasicAuth:
    """HTTP Basic authentication with an integration user.

    Attributes:
        username: the ServiceNow user name.
        password: its password (never logged or shown in ``repr``).
    """

    username: str
    password: str = field(repr=False)


@frozen
class OAuthClientCredentials:
    """OAuth 2.0 client-credentials grant (``/oauth_token.do``).

    Attributes:
        client_id: the OAuth application's client id.
        client_secret: its secret (never logged or shown in ``repr``).
    """

    client_id: str
    client_secret: str = field(repr=False)


@frozen
class OAuthPassword:
    """OAuth 2.0 resource-owner password grant (``/oauth_token.do``).

    Attributes:
        client_id: the OAuth application's client id.
        client_secret: its secret.
        username: the integration user's name.
        password: its password.
    """

    client_id: str
    client_secret: str = field(repr=False)
    username: str
    password: str = field(repr=False)


Auth = BasicAuth | OAuthClientCredentials | OAuthPassword


def _no_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    # the token request authenticates with its form; the session's bearer auth must not recurse
    return request


class TokenAuth(requests.auth.AuthBase):
    """Adds ``Authorization: Bearer`` to each request, fetching and renewing the token.

    The token is requested through ``session`` (the connection's own), so the
    caller's CA bundle, proxies and timeouts apply to it too.

    Args:
        session: the connection's session.
        instance_url: the instance's base URL.
        credentials: the OAuth credentials.
        timeout: (connect, read) seconds for the token request.
    """

    def __init__(
        self,
        session: requests.Session,
        instance_url: str,
        credentials: OAuthClientCredentials | OAuthPassword,
        timeout: tuple[float, float],
    ) -> None:
        self._session = session
        self._url = instance_url + _TOKEN_PATH
        self._credentials = credentials
        self._timeout = timeout
        # re-entrant: a 401 on the token request itself reaches invalidate() from inside token()
        self._lock = threading.RLock()
        self._token: str | None = None
        self._refresh_token: str | None = None
        self._expires_at = 0.0

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request

    def invalidate(self) -> None:
        """Forget the token (the instance refused it); the next request fetches a new one."""
        with self._lock:
            self._token = None

    def token(self) -> str:
        """The current access token, fetched or renewed when needed."""
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at:
                self._fetch()
            assert self._token is not None
            return self._token

    def _form(self) -> dict[str, str]:
        creds = self._credentials
        form = {"client_id": creds.client_id, "client_secret": creds.client_secret}
        if self._refresh_token:
            form.update(grant_type="refresh_token", refresh_token=self._refresh_token)
        elif isinstance(creds, OAuthPassword):
            form.update(grant_type="password", username=creds.username, password=creds.password)
        else:
            form.update(grant_type="client_credentials")
        return form

    def _fetch(self) -> None:
        grant = "refresh_token" if self._refresh_token else "initial"
        try:
            data = self._post(self._form())
        except ServiceNowAuthError:
            if not self._refresh_token:
                raise
            logger.info("refresh token refused; requesting a new token with the original grant")
            self._refresh_token = None
            data = self._post(self._form())
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise ServiceNowAuthError(
                instance=self._url, status=200, detail="token response has no access_token"
            )
        self._token = token
        refresh = data.get("refresh_token")
        self._refresh_token = refresh if isinstance(refresh, str) and refresh else None
        try:
            lifetime = float(data.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600.0
        self._expires_at = time.monotonic() + max(lifetime - _REFRESH_MARGIN, lifetime / 2)
        logger.debug("obtained an OAuth access token (%s grant)", grant)

    def _post(self, form: dict[str, str]) -> dict[str, Any]:
        try:
            response = self._session.post(
                self._url, data=form, auth=_no_auth, timeout=self._timeout
            )
        except requests.RequestException as exc:
            raise ServiceNowAuthError(
                instance=self._url,
                status=None,
                detail=f"token request failed: {network_detail(exc, self._url.split('/')[2])}",
            ) from exc
        if response.status_code != 200:
            raise ServiceNowAuthError(
                instance=self._url,
                status=response.status_code,
                detail=_oauth_error(response),
            )
        try:
            data = response.json()
        except ValueError as exc:
            raise ServiceNowAuthError(
                instance=self._url, status=200, detail="token response is not JSON"
            ) from exc
        if not isinstance(data, dict):
            raise ServiceNowAuthError(
                instance=self._url, status=200, detail="token response is not an object"
            )
        return data


def _oauth_error(response: requests.Response) -> str:
    # only the OAuth error code and description: the body never carries our secret back
    try:
        data = response.json()
    except ValueError:
        return "token request refused"
    if not isinstance(data, dict):
        return "token request refused"
    parts = [str(data[k]) for k in ("error", "error_description") if data.get(k)]
    return ": ".join(parts) or "token request refused"
