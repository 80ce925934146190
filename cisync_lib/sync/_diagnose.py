"""What went wrong talking to a service, in one sentence that names the place and the fix.

A failure deep in requests, urllib3 or msal reaches the operator as a
:class:`~cisync_lib.PreflightError`: the service, its host, the cause (name
not resolved, connection refused, TLS not trusted, timeout, 401, 403) and
the config key or secret to change. The endpoints are described from the
deployment config, so the message can say ``destinations.test.instance_url``
rather than "the URL".
"""

from __future__ import annotations

import enum
import re
import socket
import ssl
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import requests
from attrs import field, frozen

from cisync_lib.errors import (
    CisyncError,
    DefenderAuthError,
    DefenderHttpError,
    PreflightError,
    ServiceNowAuthError,
    ServiceNowError,
)

from ._secrets import env_var_name

__all__ = ["Cause", "Endpoint", "classify", "failure", "from_error"]

SANDBOX_REFRESH = (
    "the sandbox was probably restarted: run `cisync sandbox serve --json > info.json` "
    "and refresh the config with `cisync init --sandbox info.json --config {config}` "
    "(settings and consent are kept)"
)


class Cause(str, enum.Enum):
    """Why a service could not be used."""

    DNS = "dns"
    REFUSED = "refused"
    TLS = "tls"
    TIMEOUT = "timeout"
    PROXY = "proxy"
    NETWORK = "network"
    UNAUTHORIZED = "401"
    FORBIDDEN = "403"


@frozen(kw_only=True)
class Endpoint:
    """One service the deployment talks to, and the settings that point at it.

    Attributes:
        service: ``ServiceNow``, ``Entra ID``, ``Microsoft Graph`` or ``Defender legacy API``.
        url: the base URL.
        url_key: the config key holding the URL (``destinations.test.instance_url``).
        ca_key: the config key of its CA bundle (``destinations.test.ca_bundle``).
        verify: ``True`` (the default trust store) or the CA bundle in use.
        proxies: explicit proxies (direct network checks are skipped through a proxy).
        secret: where the credential comes from, for a 401 message.
        identity: who signs in (``user cisync.integration``, ``client 1111...``).
        config: the config file.
        sandbox: whether the config was written for a local sandbox.
    """

    service: str
    url: str
    url_key: str
    ca_key: str
    verify: bool | str = True
    proxies: Mapping[str, str] = field(factory=dict)
    secret: str = ""
    identity: str = ""
    config: str = "cisync.toml"
    sandbox: bool = False

    @property
    def host(self) -> str:
        """``host:port`` of the URL."""
        parts = urlsplit(self.url)
        return f"{parts.hostname}:{parts.port or 443}"

    @property
    def ca_in_use(self) -> str:
        """The CA the connection trusts, for messages."""
        if self.verify is True:
            return "the default CA bundle (certifi)"
        if self.verify is False:
            return "none (verification is off)"
        return str(self.verify)


def secret_hint(section: str, name: str, key: str, secrets_file: Path | None) -> str:
    """Where a secret is read from: its environment variable, then the secrets file."""
    text = env_var_name(name, key)
    if secrets_file is not None:
        text += f" or [{section}.{name}] {key} in {secrets_file}"
    return text


# --- classification ---------------------------------------------------------------------


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        item = todo.pop(0)
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        for nxt in (item.__cause__, item.__context__, getattr(item, "reason", None)):
            if isinstance(nxt, BaseException):
                todo.append(nxt)
        todo.extend(a for a in item.args if isinstance(a, BaseException))


_TEXT_CAUSES = (
    (Cause.DNS, re.compile(r"NameResolutionError|Name or service not known|getaddrinfo failed|"
                           r"nodename nor servname|Temporary failure in name resolution")),
    (Cause.TLS, re.compile(r"SSLError|CERTIFICATE_VERIFY_FAILED|certificate verify failed|"
                           r"SSLCertVerificationError|WRONG_VERSION_NUMBER|TLSV1_ALERT")),
    (Cause.REFUSED, re.compile(r"Connection refused|\[Errno 111\]|ConnectionRefusedError|"
                               r"actively refused")),
    (Cause.TIMEOUT, re.compile(r"timed out|Timeout|ConnectTimeout|ReadTimeout")),
    (Cause.NETWORK, re.compile(r"NewConnectionError|ConnectionError|RemoteDisconnected|"
                               r"Connection reset|Network is unreachable|No route to host")),
)  # fmt: skip


def classify(exc: BaseException) -> tuple[Cause, str] | None:
    """The network or auth cause behind ``exc`` and a short detail, or ``None``.

    Walks the exception's causes (requests wraps urllib3 wraps socket and ssl
    errors) and, where a library kept only text, reads the text.
    """
    chain = list(_chain(exc))
    for item in chain:
        status = getattr(item, "status", None)
        if isinstance(item, ServiceNowAuthError | DefenderAuthError | DefenderHttpError):
            if status == 401 or (isinstance(item, DefenderAuthError) and status is None):
                return Cause.UNAUTHORIZED, _auth_detail(item)
            if status == 403:
                return Cause.FORBIDDEN, _auth_detail(item)
    for item in chain:
        if isinstance(item, requests.exceptions.ProxyError):
            return Cause.PROXY, "the proxy could not be reached or refused the tunnel"
    for item in chain:
        if isinstance(item, ssl.SSLCertVerificationError):
            return Cause.TLS, item.verify_message or str(item)
        if isinstance(item, ssl.SSLError | requests.exceptions.SSLError):
            return Cause.TLS, _short(item)
        if isinstance(item, socket.gaierror):
            return Cause.DNS, item.strerror or str(item)
        if isinstance(item, ConnectionRefusedError):
            return Cause.REFUSED, "connection refused"
        if isinstance(item, requests.Timeout | socket.timeout | TimeoutError):
            return Cause.TIMEOUT, "no answer in time"
    text = " ".join(str(item) for item in chain)
    for cause, pattern in _TEXT_CAUSES:
        found = pattern.search(text)
        if found:
            if cause is Cause.TLS:
                verify = re.search(r"certificate verify failed: ([^(]+)", text)
                return cause, verify.group(1).strip() if verify else found.group(0)
            return cause, found.group(0)
    return None


def _short(exc: BaseException) -> str:
    text = str(exc)
    found = re.search(r"certificate verify failed: ([^(]+)", text)
    return found.group(1).strip() if found else text[:160]


def _auth_detail(exc: CisyncError) -> str:
    if isinstance(exc, DefenderAuthError):
        # Entra's description runs on with trace ids and timestamps: keep its first sentence
        first = re.split(r"(?<=\.)\s|\r|\n| Trace ID:", exc.error_description or "", maxsplit=1)
        return exc.error + (f": {first[0].strip()}" if first and first[0].strip() else "")
    return str(getattr(exc, "detail", "") or "")


# --- messages ---------------------------------------------------------------------------


def failure(endpoint: Endpoint, cause: Cause, detail: str = "") -> PreflightError:
    """The one-line error for ``endpoint`` failing with ``cause``."""
    url_fix = f"check {endpoint.url_key} in {endpoint.config}"
    sandbox_fix = ""
    if endpoint.sandbox and cause in (Cause.REFUSED, Cause.TLS, Cause.DNS, Cause.TIMEOUT):
        sandbox_fix = "if " + SANDBOX_REFRESH.format(config=endpoint.config).replace(
            " was probably restarted:", " was restarted,", 1
        )
    via = " (through the configured proxy)" if endpoint.proxies else ""
    if cause is Cause.DNS:
        problem = f"the host name does not resolve{via}"
        fix = f"{url_fix} (a typo in the host name?) and the machine's DNS or proxies"
    elif cause is Cause.REFUSED:
        problem = f"the connection was refused{via} (nothing listens on that port)"
        fix = f"{url_fix} and its port; if outbound traffic must use a proxy, set proxies"
    elif cause is Cause.TLS:
        # "certificate verify failed" is what the operator will search the web for
        problem = "TLS certificate verify failed" + (f" ({detail})" if detail else "")
        problem += f": not trusted with CA {endpoint.ca_in_use}"
        fix = (
            f"set {endpoint.ca_key} to the CA file that signed the server's certificate "
            "(e.g. a TLS-inspecting proxy's CA), or check the URL"
        )
    elif cause is Cause.TIMEOUT:
        problem = f"no answer in time{via}"
        fix = f"{url_fix}; a firewall may drop the traffic, or a proxy is needed (proxies)"
    elif cause is Cause.PROXY:
        problem = f"the connection through the configured proxy failed ({detail})"
        key = endpoint.url_key.split(" ")[0].rsplit(".", 1)[0]
        fix = f"check {key}.proxies in {endpoint.config} (URL, port, and whether it allows CONNECT)"
    elif cause is Cause.UNAUTHORIZED:
        who = f" {endpoint.identity}" if endpoint.identity else ""
        problem = f"the credentials{' of' + who if who else ''} were refused (HTTP 401)"
        problem += f": {detail}" if detail else ""
        if endpoint.service == "Entra ID":
            problem = f"Entra ID refused{who}" + (f" ({detail})" if detail else "")
        fix = f"set the right secret in {endpoint.secret}" if endpoint.secret else url_fix
        if endpoint.service == "ServiceNow":
            fix += "; cisync stopped after this one attempt, so a lockout policy is not tripped"
    elif cause is Cause.FORBIDDEN:
        who = f" {endpoint.identity}" if endpoint.identity else ""
        problem = f"{who.strip() or 'the caller'} is not allowed (HTTP 403)"
        problem += f": {detail}" if detail else ""
        fix = "grant the roles in the permissions table of the docs page 'ServiceNow setup'"
        if endpoint.service != "ServiceNow":
            fix = (
                "grant the app registration the application permission (Graph: "
                "CloudApp-Discovery.Read.All) with admin consent; docs page 'Connecting to a "
                "real tenant'"
            )
    else:
        problem = "the network connection failed" + (f" ({detail})" if detail else "")
        fix = f"{url_fix} and the network path (proxies)"
    if sandbox_fix:
        fix = f"{fix}; {sandbox_fix}"
    return PreflightError(
        service=endpoint.service, host=endpoint.host, problem=problem, fix=fix, cause=cause.value
    )


def from_error(exc: BaseException, endpoints: Mapping[str, Endpoint]) -> PreflightError | None:
    """Explain a failure of a run, or ``None`` when it is not a network or auth problem.

    Args:
        exc: what the run raised.
        endpoints: the deployment's endpoints by service name (see :class:`Endpoint`).
    """
    if isinstance(exc, PreflightError):
        return None
    found = classify(exc)
    if found is None:
        return None
    cause, detail = found
    endpoint = _endpoint_for(exc, endpoints)
    if endpoint is None:
        return None
    return failure(endpoint, cause, detail)


def _endpoint_for(exc: BaseException, endpoints: Mapping[str, Endpoint]) -> Endpoint | None:
    if isinstance(exc, ServiceNowError):
        return endpoints.get("ServiceNow")
    if isinstance(exc, DefenderAuthError):
        # an Entra ID credential, or else the legacy API's own token
        return endpoints.get("Entra ID") or endpoints.get("Defender legacy API")
    if isinstance(exc, DefenderHttpError):
        # the failing request's URL says which Defender-side service it was
        request = exc.request.split(" ", 1)[-1]
        for endpoint in endpoints.values():
            if endpoint.service != "ServiceNow" and request.startswith(endpoint.url):
                return endpoint
        return endpoints.get("Microsoft Graph") or endpoints.get("Defender legacy API")
    return None
