"""The HTTP policy shared by the Graph and legacy sources.

One :class:`requests.Session` per source, never trusting the environment
(``REQUESTS_CA_BUNDLE`` would override ``verify``), with connect and read
timeouts on every request. Retries are urllib3's :class:`~urllib3.util.Retry`
mounted on the session's adapter: it sits below requests, so it sees every
attempt (connection errors, read timeouts, 429/5xx), parses ``Retry-After``
in both of its forms, and adds jittered exponential backoff. The subclass
only caps ``Retry-After`` and makes each retry wait for the rate limiter.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import requests
from attrs import frozen
from requests.adapters import HTTPAdapter
from urllib3.response import BaseHTTPResponse
from urllib3.util import Retry

from cisync_lib._errors_remote import DefenderAuthError, DefenderHttpError, DefenderPayloadError

from ._config import HttpPolicy
from ._limiter import RateLimiter

__all__ = ["HttpClient", "PolicyRetry", "Where", "make_session", "redact"]

logger = logging.getLogger(__name__)

_TOKENISH = re.compile(r"(?i)\b(bearer|token)\s+[\w.~+/=-]{8,}|eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*")


def redact(text: str) -> str:
    """Mask anything that looks like a bearer/legacy token or a JWT in ``text``."""
    return _TOKENISH.sub(lambda m: (m.group(1) + " ***") if m.group(1) else "***", text)


class PolicyRetry(Retry):
    """urllib3's Retry with a cap on ``Retry-After`` and a rate limiter before each retry."""

    retry_after_cap: float = 60.0
    limiter: RateLimiter | None = None

    def new(self, **kw: Any) -> PolicyRetry:
        made = super().new(**kw)
        made.retry_after_cap = self.retry_after_cap
        made.limiter = self.limiter
        return made

    def parse_retry_after(self, retry_after: str) -> float:
        # a server asking for an hour would stall the whole sync; cap it
        return min(super().parse_retry_after(retry_after), self.retry_after_cap)

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        status = response.status if response is not None else "no response"
        logger.debug("retrying after %s (%d retries so far)", status, len(self.history))
        super().sleep(response)
        if self.limiter is not None:
            self.limiter.acquire()  # a retry spends the same request budget


class _TimeoutSession(requests.Session):
    """A session that applies a default ``(connect, read)`` timeout to every request."""

    def __init__(self, timeout: tuple[float, float]) -> None:
        super().__init__()
        self.default_timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().send(request, **kwargs)


def make_session(
    policy: HttpPolicy,
    *,
    verify: bool | str,
    proxies: Mapping[str, str],
    limiter: RateLimiter | None = None,
) -> requests.Session:
    """A session with our timeouts, retries, TLS trust and proxies (never the environment's)."""
    session = _TimeoutSession(policy.timeout)
    session.trust_env = False  # REQUESTS_CA_BUNDLE and *_PROXY must not override the caller
    session.verify = verify
    session.proxies = dict(proxies)
    retry = PolicyRetry(
        total=policy.retries,
        connect=policy.retries,
        read=policy.retries,
        status=policy.retries,
        other=0,  # TLS and protocol errors will not get better by retrying
        redirect=0,
        allowed_methods=frozenset({"GET", "POST"}),  # every request we send is a read
        status_forcelist=policy.retry_statuses,
        backoff_factor=policy.backoff_factor,
        backoff_max=policy.backoff_max,
        backoff_jitter=policy.backoff_jitter,
        respect_retry_after_header=True,
        raise_on_status=False,  # hand back the last response; we raise a named error
    )
    retry.retry_after_cap = policy.retry_after_max
    retry.limiter = limiter
    adapter = HTTPAdapter(max_retries=retry, pool_maxsize=max(10, 2 * policy.concurrency))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers.update({"User-Agent": policy.user_agent, "Accept": "application/json"})
    return session


@frozen(kw_only=True)
class Where:
    """What a request was reading, for error messages.

    Attributes:
        entity: ``streams``, ``apps``, ``users``, ``devices`` or ``app info``.
        stream_id: the stream being read.
        app_id: the app being read.
        page: the 1-based page within that collection.
    """

    entity: str
    stream_id: str | None = None
    app_id: str | None = None
    page: int | None = None


class HttpClient:
    """Sends one logical request (with its retries) and decodes the JSON reply.

    Args:
        policy: timeouts, retries and concurrency.
        verify: ``True`` or a CA bundle path.
        proxies: requests-style proxies.
        authorization: returns the ``Authorization`` header value for each request.
        on_unauthorized: drops a cached token after a 401; the request is then
            sent once more.
        limiter: the request budget, or ``None``.
    """

    def __init__(
        self,
        policy: HttpPolicy,
        *,
        verify: bool | str,
        proxies: Mapping[str, str],
        authorization: Callable[[], str] | None = None,
        on_unauthorized: Callable[[], None] | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.policy = policy
        self.session = make_session(policy, verify=verify, proxies=proxies, limiter=limiter)
        self._authorization = authorization
        self._on_unauthorized = on_unauthorized
        self._limiter = limiter
        self._counter = itertools.count(1)
        self._sent = 0

    @property
    def requests_sent(self) -> int:
        """Logical requests sent so far (urllib3's retries not counted)."""
        return self._sent

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()

    def fetch_json(
        self,
        method: str,
        url: str,
        where: Where,
        *,
        params: Mapping[str, str] | None = None,
        body: object = None,
    ) -> object:
        """Send the request and return the decoded JSON body.

        Raises:
            DefenderHttpError: the request still failed after its retries.
            DefenderAuthError: the service refused our token (401 twice, or 403).
            DefenderPayloadError: the body is not JSON.
        """
        name = f"{method} {url}"
        response = self._send(method, url, name, where, params, body)
        if response.status_code >= 400:
            raise self._status_error(response, name, where)
        try:
            return response.json()
        except ValueError as exc:
            problem = f"not valid JSON ({type(exc).__name__}: {redact(str(exc))[:120]}) @ $"
            raise DefenderPayloadError(
                request=name, entity=_entity(where), problems=[problem]
            ) from exc

    def _send(
        self,
        method: str,
        url: str,
        name: str,
        where: Where,
        params: Mapping[str, str] | None,
        body: object,
    ) -> requests.Response:
        for attempt in (1, 2):
            headers = {"client-request-id": str(uuid.uuid4()), "return-client-request-id": "true"}
            if self._authorization is not None:
                headers["Authorization"] = self._authorization()
            if self._limiter is not None:
                self._limiter.acquire()
            self._sent = next(self._counter)
            started = time.monotonic()
            try:
                response = self.session.request(
                    method, url, params=params, json=body, headers=headers
                )
            except requests.RequestException as exc:
                raise DefenderHttpError(
                    request=name,
                    status=None,
                    stream_id=where.stream_id,
                    app_id=where.app_id,
                    page=where.page,
                    detail=_transport_detail(exc, self.policy.retries),
                ) from exc
            logger.debug(
                "%s -> %d in %.0f ms (request-id %s, client-request-id %s)",
                name,
                response.status_code,
                (time.monotonic() - started) * 1000,
                response.headers.get("request-id", "-"),
                response.headers.get("client-request-id", headers["client-request-id"]),
            )
            if response.status_code == 401 and attempt == 1 and self._on_unauthorized:
                logger.info("%s answered 401: dropping the cached token and retrying once", name)
                self._on_unauthorized()
                continue
            return response
        return response

    def _status_error(
        self, response: requests.Response, name: str, where: Where
    ) -> DefenderHttpError | DefenderAuthError:
        detail = _error_detail(response)
        request_id = response.headers.get("request-id")
        if response.status_code in (401, 403):
            return DefenderAuthError(
                error="unauthorized" if response.status_code == 401 else "forbidden",
                error_description=f"{name} answered HTTP {response.status_code}: {detail}",
                correlation_id=request_id,
            )
        if response.status_code in self.policy.retry_statuses:
            detail = f"still failing after {self.policy.retries} retries: {detail}"
        return DefenderHttpError(
            request=name,
            status=response.status_code,
            stream_id=where.stream_id,
            app_id=where.app_id,
            page=where.page,
            request_id=request_id,
            detail=detail,
        )


def _entity(where: Where) -> str:
    parts = [where.entity + " page"]
    parts.extend(
        f"{label} {value}"
        for label, value in (
            ("stream", where.stream_id),
            ("app", where.app_id),
            ("page", where.page),
        )
        if value is not None
    )
    return parts[0] + (" (" + ", ".join(parts[1:]) + ")" if len(parts) > 1 else "")


def _error_detail(response: requests.Response) -> str:
    """The server's explanation: Graph's ``error.message``, or the start of the body."""
    text = ""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, Mapping):
        error = payload.get("error")
        if isinstance(error, Mapping):
            text = " ".join(str(error.get(k, "")) for k in ("code", "message")).strip()
        elif error is not None:
            text = str(error)
    if not text:
        text = response.text.strip().replace("\n", " ")
    return redact(text[:300]) or response.reason or ""


def _transport_detail(exc: requests.RequestException, retries: int) -> str:
    reason: object = exc.args[0] if exc.args else exc
    reason = getattr(reason, "reason", None) or reason  # MaxRetryError keeps the last error
    text = redact(str(reason))[:300]
    return f"no response after {retries} retries ({type(reason).__name__}: {text})"
