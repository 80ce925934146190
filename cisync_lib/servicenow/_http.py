"""The instance's sessions: the one HTTP policy with ServiceNow's rules, and network errors.

pysnc has no timeouts and, with ``auto_retry=True``, mounts its own adapter
over ours. So the connection builds the session itself, through the one HTTP
policy (:mod:`cisync_lib._http`), and hands it to pysnc with
``auto_retry=False``: the policy's adapter, mounted on the instance prefix,
gives every request a (connect, read) timeout and retries only idempotent
methods (never POST or PATCH, whose outcome after a timeout must be settled by
re-reading).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.util import Retry

from cisync_lib import _http
from cisync_lib._http import Counter, SessionPolicy

logger = logging.getLogger(__name__)

__all__ = ["build_session", "instance_policy", "network_detail"]

#: statuses worth retrying on idempotent calls; 500 is not (inspect it, do not repeat it)
RETRY_STATUSES = frozenset({429, 502, 503, 504})


def network_detail(exc: requests.RequestException, host: str = "the instance") -> str:
    """One line for a connection-level failure: the cause in words, never a bare class name."""
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return (
            f"certificate verify failed for {host}: its certificate is not signed by a CA "
            "this machine trusts; set ca_bundle in the destination (a PEM file with the CA "
            "that signed it)"
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return f"TLS handshake with {host} failed; check instance_url, proxies and ca_bundle"
    if isinstance(exc, requests.Timeout) or "timed out" in text:
        return f"no answer from {host} in time (timeout); check instance_url, firewall, proxies"
    if any(s in text for s in ("NameResolutionError", "Name or service not known", "getaddrinfo")):
        return f"the host name {host} does not resolve; check instance_url and DNS or proxies"
    if "Connection refused" in text or "[Errno 111]" in text:
        return f"{host} refused the connection; check instance_url and its port"
    return f"network failure talking to {host} ({type(exc).__name__}); check instance_url, proxies"


def build_session(
    policy: SessionPolicy, *, counter: Counter, throttled: Counter | None = None
) -> requests.Session:
    """A session of the instance's policy, logging each answer at DEBUG.

    Args:
        policy: the instance's policy (:func:`instance_policy`).
        counter: counts every round trip, including retries.
        throttled: counts 429 and 503 answers that the retry policy retried.
    """
    session = _http.build_session(policy, round_trips=counter, throttled=throttled)
    session.hooks["response"].append(_log_response)
    return session


def instance_policy(
    instance_url: str,
    *,
    verify: bool | str,
    timeout: tuple[float, float],
    proxies: Mapping[str, str] | None,
    retries: int,
    backoff: float,
    max_retry_after: float,
) -> SessionPolicy:
    """The HTTP policy of one instance: only idempotent requests are retried, never POST or PATCH.

    The arguments are :class:`~cisync_lib.servicenow.ServiceNowConnection`'s.
    """
    return SessionPolicy(
        verify=verify,
        proxies=dict(proxies or {}),
        timeout=timeout,
        retries=retries,
        retry_statuses=RETRY_STATUSES,
        retry_methods=Retry.DEFAULT_ALLOWED_METHODS,  # never POST or PATCH
        backoff_factor=backoff,
        backoff_jitter=backoff,
        max_retry_after=max_retry_after,
        raise_on_status=True,
        headers={"Accept": "application/json"},
        mount=(instance_url,),
    )


def _log_response(response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
    """DEBUG: one line per answer with the instance's transaction id (``cisync --debug``).

    Only the method, the path and the status: never headers (credentials) and never
    the query string (it can hold people's names and emails).
    """
    if logger.isEnabledFor(logging.DEBUG):
        request = response.request
        logger.debug(
            "%s %s -> %d in %.0f ms (transaction %s)",
            request.method,
            urlsplit(request.url or "").path,
            response.status_code,
            response.elapsed.total_seconds() * 1000,
            response.headers.get("X-Transaction-ID") or response.headers.get("X-Request-ID", "-"),
        )
