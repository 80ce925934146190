"""Defender's HTTP: its sessions, and one logical request (budget, auth, retries, named errors).

Every session (Graph, the legacy API, Entra ID through msal) comes from the
one HTTP policy (:mod:`cisync_lib._http`) with the :class:`HttpPolicy` of the
connection: never trusting the environment, with timeouts, retrying
connection errors, timeouts and 429/5xx inside urllib3 (both GET and POST:
every request sent here is a read), ``Retry-After`` capped at
``retry_after_max``. A body cut off after the headers arrived surfaces above
urllib3, so :class:`HttpClient` retries it with the same policy (urllib3's
counting, backoff and jitter). A 401 drops the cached token and the request is
sent once more.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence

import requests
from attrs import frozen
from urllib3.exceptions import MaxRetryError, ProtocolError, ReadTimeoutError

from cisync_lib._http import Counter, Pacer, PolicyRetry, SessionPolicy, build_session, make_retry
from cisync_lib.errors import DefenderAuthError, DefenderHttpError, DefenderPayloadError

from ._config import HttpPolicy
from ._limiter import Limiter

__all__ = [
    "HttpClient",
    "Where",
    "graph_error",
    "make_session",
    "redact",
    "require_keys",
    "session_policy",
]

logger = logging.getLogger(__name__)

_TOKENISH = re.compile(r"(?i)\b(bearer|token)\s+[\w.~+/=-]{8,}|eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*")


def redact(text: str) -> str:
    """Mask anything that looks like a bearer/legacy token or a JWT in ``text``."""
    return _TOKENISH.sub(lambda m: (m.group(1) + " ***") if m.group(1) else "***", text)


def session_policy(
    policy: HttpPolicy, *, verify: bool | str, proxies: Mapping[str, str]
) -> SessionPolicy:
    """The one HTTP policy with a Defender connection's settings.

    Both GET and POST are retried: every request sent to Graph, the legacy API
    and Entra ID is a read (a POST there is a query, a batch of GETs or a token request).
    """
    return SessionPolicy(
        verify=verify,
        proxies=proxies,
        timeout=policy.timeout,
        retries=policy.retries,
        retry_statuses=policy.retry_statuses,
        retry_methods=frozenset({"GET", "POST"}),
        backoff_factor=policy.backoff_factor,
        backoff_max=policy.backoff_max,
        backoff_jitter=policy.backoff_jitter,
        max_retry_after=policy.retry_after_max,
        raise_on_status=False,  # hand back the last response; we raise a named error
        headers={"User-Agent": policy.user_agent, "Accept": "application/json"},
        pool_maxsize=max(10, 2 * policy.concurrency),
    )


def make_session(
    policy: HttpPolicy,
    *,
    verify: bool | str,
    proxies: Mapping[str, str],
    round_trips: Counter | None = None,
    pacer: Pacer | None = None,
) -> requests.Session:
    """A session of the one HTTP policy for a Defender connection (msal gets one too)."""
    return build_session(
        session_policy(policy, verify=verify, proxies=proxies),
        round_trips=round_trips if round_trips is not None else Counter(),
        pacer=pacer,
    )


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
        limiter: the request budget (a fixed rate or an adaptive limit), or ``None``.
    """

    def __init__(
        self,
        policy: HttpPolicy,
        *,
        verify: bool | str,
        proxies: Mapping[str, str],
        authorization: Callable[[], str] | None = None,
        on_unauthorized: Callable[[], None] | None = None,
        limiter: Limiter | None = None,
    ) -> None:
        self.policy = policy
        self._session_policy = session_policy(policy, verify=verify, proxies=proxies)
        self._round_trips = Counter()
        self.session = build_session(
            self._session_policy, round_trips=self._round_trips, pacer=limiter
        )
        self._authorization = authorization
        self._on_unauthorized = on_unauthorized
        self._limiter = limiter
        self._counter = itertools.count(1)
        self._sent = 0

    @property
    def limiter(self) -> Limiter | None:
        """The request budget, or ``None``."""
        return self._limiter

    @property
    def requests_sent(self) -> int:
        """Logical requests sent so far (urllib3's retries not counted)."""
        return self._sent

    @property
    def round_trips(self) -> int:
        """Requests that went on the wire so far, every retry included."""
        return self._round_trips.value

    def retry(self) -> PolicyRetry:
        """A fresh retry of the session's policy, for failures urllib3 never sees."""
        return make_retry(self._session_policy)

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
        adapt: bool = True,
    ) -> object:
        """Send the request and return the decoded JSON body.

        Args:
            method: the HTTP method.
            url: the absolute URL.
            where: what the request reads, for error messages.
            params: query parameters.
            body: a JSON body.
            adapt: tell the limiter what the answer's status says; ``False`` when
                the caller judges the body instead (a ``$batch``, whose inner
                answers carry the throttling).

        Raises:
            DefenderHttpError: the request still failed after its retries.
            DefenderAuthError: the service refused our token (401 twice, or 403).
            DefenderPayloadError: the body is not JSON, after the policy's retries.
        """
        name = f"{method} {url}"
        # a body that is not JSON (a proxy's error page, a truncated answer) is sent again
        # a bounded number of times, like a body cut short: every request here is a read
        retry = self.retry()
        tries = 0
        while True:
            tries += 1
            response = self._send(method, url, name, where, params, body, adapt)
            if response.status_code >= 400:
                raise self._status_error(response, name, where)
            try:
                return response.json()
            except ValueError as exc:
                try:
                    retry = retry.increment(method, url, error=ProtocolError("body not JSON"))
                except MaxRetryError:
                    after = f" after {tries} tries" if tries > 1 else ""
                    problem = (
                        f"not valid JSON{after} ({type(exc).__name__}: "
                        f"{redact(str(exc))[:120]}) @ $"
                    )
                    raise DefenderPayloadError(
                        request=name, entity=_entity(where), problems=[problem]
                    ) from exc
                logger.info("%s: the body is not JSON; sending it again (try %d)", name, tries + 1)
                retry.sleep()

    def _send(
        self,
        method: str,
        url: str,
        name: str,
        where: Where,
        params: Mapping[str, str] | None,
        body: object,
        adapt: bool,
    ) -> requests.Response:
        retry = self.retry()  # for bodies cut short; the adapter has its own
        refreshed = False
        while True:
            headers = {"client-request-id": str(uuid.uuid4()), "return-client-request-id": "true"}
            if self._authorization is not None:
                headers["Authorization"] = self._authorization()
            if self._limiter is not None:
                self._limiter.acquire()
            self._sent = next(self._counter)
            started = time.monotonic()
            error: requests.RequestException | None = None
            try:
                response = self.session.request(
                    method, url, params=params, json=body, headers=headers
                )
                if adapt and self._limiter is not None:
                    self._limiter.record(response.status_code, kind=method)
            except requests.RequestException as exc:
                error = exc
            finally:
                self._release()  # even on an interrupt, or the budget would leak a slot
            if error is not None:
                if not _cut_short(error):
                    raise self._transport_error(error, name, where) from error
                try:
                    retry = retry.increment(method, url, error=ProtocolError(str(error)))
                except MaxRetryError:
                    raise self._transport_error(error, name, where) from error
                retry.sleep()
                continue
            logger.debug(
                "%s -> %d in %.0f ms (request-id %s, client-request-id %s)",
                name,
                response.status_code,
                (time.monotonic() - started) * 1000,
                response.headers.get("request-id", "-"),
                response.headers.get("client-request-id", headers["client-request-id"]),
            )
            if response.status_code == 401 and not refreshed and self._on_unauthorized:
                logger.info("%s answered 401: dropping the cached token and retrying once", name)
                refreshed = True
                self._on_unauthorized()
                continue
            return response

    def _release(self) -> None:
        if self._limiter is not None:
            self._limiter.release()

    def _transport_error(
        self, exc: requests.RequestException, name: str, where: Where
    ) -> DefenderHttpError:
        reason: object = exc.args[0] if exc.args else exc
        reason = getattr(reason, "reason", None) or reason  # MaxRetryError keeps the last error
        return DefenderHttpError(
            request=name,
            status=None,
            stream_id=where.stream_id,
            app_id=where.app_id,
            page=where.page,
            detail=f"no response after {self.policy.retries} retries "
            f"({type(reason).__name__}: {redact(str(reason))[:300]})",
        )

    def _status_error(
        self, response: requests.Response, name: str, where: Where
    ) -> DefenderHttpError | DefenderAuthError:
        detail, inner_id = _error_detail(response)
        request_id = response.headers.get("request-id") or inner_id
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


def require_keys(
    items: Sequence[object], keys: Sequence[str], *, request: str, entity: str, path: str
) -> None:
    """Refuse a page whose objects lack one of ``keys`` (a default would hide the gap).

    Raises:
        DefenderPayloadError: naming each missing key by its JSON path under ``path``.
    """
    missing = [
        f"required key missing @ {path}[{index}].{key}"
        for index, item in enumerate(items)
        if isinstance(item, Mapping)
        for key in keys
        if key not in item
    ]
    if missing:
        raise DefenderPayloadError(request=request, entity=entity, problems=missing)


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


def graph_error(payload: object) -> tuple[str, str | None]:
    """Graph's ``error`` code and message, and the request-id it repeats in ``error.innerError``.

    The text is redacted and cut to 300 characters; ``("", None)`` when ``payload``
    is not Graph's error shape. Plain answers and inner answers of a batch alike.
    """
    text, request_id = "", None
    if isinstance(payload, Mapping):
        error = payload.get("error")
        if isinstance(error, Mapping):
            text = " ".join(str(error.get(k, "")) for k in ("code", "message")).strip()
            inner = error.get("innerError")
            if isinstance(inner, Mapping) and inner.get("request-id"):
                request_id = str(inner["request-id"])
        elif error is not None:
            text = str(error)
    return redact(text[:300]), request_id


def _error_detail(response: requests.Response) -> tuple[str, str | None]:
    """The server's explanation (Graph's error, or the start of the body) and its request-id."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    text, request_id = graph_error(payload)
    if not text:
        text = redact(response.text.strip().replace("\n", " ")[:300])
    return text or response.reason or "", request_id


def _cut_short(exc: requests.RequestException) -> bool:
    """Whether the headers arrived but the body broke off (urllib3's Retry never saw it)."""
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return True
    inner = exc.args[0] if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(
        inner, (ProtocolError, ReadTimeoutError)
    )
