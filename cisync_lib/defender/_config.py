"""Connection settings: clouds, HTTP policy, and the Graph and legacy connections."""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from attrs import field, frozen, validators

from cisync_lib._version import __version__
from cisync_lib.errors import ConfigError

from ._credentials import (
    ClientAssertion,
    ClientCertificate,
    ClientSecret,
    LegacyToken,
    proxies_repr,
)

__all__ = [
    "CLOUDS",
    "Cloud",
    "GraphConnection",
    "HttpPolicy",
    "LegacyConnection",
    "PUBLIC_CLOUD",
    "RateLimit",
    "US_GOV_CLOUD",
    "US_GOV_DOD_CLOUD",
]

#: The Entra application id of "Microsoft Cloud App Security" (the legacy API's audience).
MDCA_RESOURCE_SCOPE = "05a65629-4c1b-48c1-a78b-804c4abdd4af/.default"


@frozen(kw_only=True)
class Cloud:
    """Where a national or public cloud keeps its sign-in and Graph endpoints.

    Attributes:
        name: a short name (``public``, ``us_gov``, ``us_gov_dod``).
        authority_host: the Entra ID sign-in host, ``https://...``.
        graph_url: the Microsoft Graph root, ``https://...``.
        graph_scope: the ``.default`` scope of that Graph.
    """

    name: str
    authority_host: str
    graph_url: str
    graph_scope: str


PUBLIC_CLOUD = Cloud(
    name="public",
    authority_host="https://login.microsoftonline.com",
    graph_url="https://graph.microsoft.com",
    graph_scope="https://graph.microsoft.com/.default",
)
#: GCC High (US Government L4). GCC "moderate" tenants use the public cloud.
US_GOV_CLOUD = Cloud(
    name="us_gov",
    authority_host="https://login.microsoftonline.us",
    graph_url="https://graph.microsoft.us",
    graph_scope="https://graph.microsoft.us/.default",
)
#: US Government DoD (L5).
US_GOV_DOD_CLOUD = Cloud(
    name="us_gov_dod",
    authority_host="https://login.microsoftonline.us",
    graph_url="https://dod-graph.microsoft.us",
    graph_scope="https://dod-graph.microsoft.us/.default",
)
#: The cloud presets by name: ``public`` (the default), ``us_gov`` (GCC High), ``us_gov_dod``.
CLOUDS: Mapping[str, Cloud] = MappingProxyType(
    {c.name: c for c in (PUBLIC_CLOUD, US_GOV_CLOUD, US_GOV_DOD_CLOUD)}
)


@frozen(kw_only=True)
class RateLimit:
    """At most ``calls`` requests in any window of ``period`` seconds.

    Attributes:
        calls: requests allowed per window.
        period: the window, in seconds.
    """

    calls: int = field(validator=validators.ge(1))
    period: float = field(validator=validators.gt(0))


def _positive(_inst: object, attribute: object, value: float) -> None:
    if value <= 0:
        raise ConfigError(key=getattr(attribute, "name", "?"), problem=f"must be > 0, got {value}")


@frozen(kw_only=True)
class HttpPolicy:
    """Timeouts, retries, rate limit and concurrency of a Defender source.

    Retries use :class:`urllib3.util.Retry`: connection errors, read timeouts
    and the ``retry_statuses`` are retried up to ``retries`` times, sleeping
    for the server's ``Retry-After`` (capped at ``retry_after_max``) or for
    ``backoff_factor * 2**n`` plus up to ``backoff_jitter`` seconds of jitter,
    at most ``backoff_max``.

    Attributes:
        connect_timeout: seconds to wait for a connection.
        read_timeout: seconds to wait for the server between bytes.
        retries: retries after the first attempt of each request.
        retry_statuses: HTTP statuses worth retrying.
        backoff_factor: base of the exponential backoff, in seconds.
        backoff_max: the longest backoff sleep, in seconds.
        backoff_jitter: random extra seconds added to each backoff sleep.
        retry_after_max: the longest ``Retry-After`` honoured, in seconds.
        rate_limit: a fixed client-side request budget (pinned), or ``None``:
            then Graph requests are paced by the adaptive limit (``adaptive``).
        concurrency: parallel requests for the per-app fan-out (users, devices);
            for Graph with the adaptive limit, the most it may reach.
        adaptive: without a ``rate_limit``, adapt the number of Graph requests in
            flight between 1 and ``concurrency`` (grow while answers are fast,
            halve on 429/503, hold every request for ``Retry-After``); ``False``
            sends ``concurrency`` requests at a time, whatever the answers.
        batch_size: Graph requests per JSON batch (``POST /$batch``, at most 20,
            Graph's limit); 0 or 1 sends every request on its own, and so does a
            pinned ``rate_limit`` (Graph counts each inner request against it).
        user_agent: the ``User-Agent`` header.
    """

    connect_timeout: float = field(default=10.0, validator=_positive)
    read_timeout: float = field(default=60.0, validator=_positive)
    retries: int = field(default=6, validator=validators.ge(0))
    retry_statuses: frozenset[int] = frozenset({429, 502, 503, 504})
    backoff_factor: float = field(default=0.5, validator=validators.ge(0))
    backoff_max: float = field(default=30.0, validator=validators.ge(0))
    backoff_jitter: float = field(default=0.5, validator=validators.ge(0))
    retry_after_max: float = field(default=60.0, validator=validators.ge(0))
    rate_limit: RateLimit | None = None
    concurrency: int = field(default=16, validator=[validators.ge(1), validators.le(32)])
    adaptive: bool = True
    batch_size: int = field(default=20, validator=[validators.ge(0), validators.le(20)])
    user_agent: str = f"cisync-lib/{__version__}"

    @property
    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` as requests expects it."""
        return (self.connect_timeout, self.read_timeout)


#: The legacy API allows 30 requests per minute per tenant (in any 60 s: a sliding window).
LEGACY_HTTP_POLICY = HttpPolicy(rate_limit=RateLimit(calls=30, period=60.0), concurrency=4)


def _https_url(_inst: Any, attribute: Any, value: Any) -> None:
    if value is None:
        return
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc:
        raise ConfigError(
            key=getattr(attribute, "name", "url"), problem=f"must be an https:// URL, got {value!r}"
        )


def _proxies(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(value or {}))


def _verify(value: bool | str | os.PathLike[str]) -> bool | str:
    return value if isinstance(value, bool) else os.fspath(value)


def _optional_path(value: str | os.PathLike[str] | None) -> str | None:
    return None if value is None else os.fspath(value)


def _tenant(_inst: object, _attr: object, value: str) -> None:
    if not value or "/" in value or value.strip() != value:
        raise ConfigError(key="tenant_id", problem=f"not a tenant id or domain: {value!r}")


@frozen
class GraphConnection:
    """How to reach Microsoft Graph for one tenant, with one Entra ID application.

    Args:
        tenant_id: the tenant id (GUID) or primary domain.
        client_id: the application (client) id of the app registration.

    Attributes:
        credential: the app's client secret, certificate or signed assertion.
        cloud: endpoint presets; the three fields below override it one by one.
        authority_host: the Entra ID host, ``https://login.microsoftonline.com``.
        graph_url: the Graph root, ``https://graph.microsoft.com``.
        graph_scope: the scope to request, ``https://graph.microsoft.com/.default``.
        verify: ``True`` or the path of a CA bundle; honoured even when
            ``REQUESTS_CA_BUNDLE`` is set.
        proxies: requests-style proxies (``{"https": "http://proxy:3128"}``);
            never read from the environment.
        http: timeouts, retries, rate limit and concurrency.
        token_cache_path: a file where msal keeps tokens between runs (0600),
            or ``None`` to keep them in memory only.
        instance_discovery: msal's instance discovery; ``None`` turns it off
            for hosts that are not Microsoft's (a private authority).
    """

    tenant_id: str = field(validator=_tenant)
    client_id: str = field(validator=validators.min_len(1))
    credential: ClientSecret | ClientCertificate | ClientAssertion = field(kw_only=True)
    cloud: Cloud = field(default=PUBLIC_CLOUD, kw_only=True)
    authority_host: str | None = field(default=None, kw_only=True, validator=_https_url)
    graph_url: str | None = field(default=None, kw_only=True, validator=_https_url)
    graph_scope: str | None = field(default=None, kw_only=True)
    verify: bool | str = field(default=True, kw_only=True, converter=_verify)
    proxies: Mapping[str, str] = field(
        factory=dict, converter=_proxies, kw_only=True, repr=proxies_repr
    )
    http: HttpPolicy = field(factory=HttpPolicy, kw_only=True)
    token_cache_path: str | None = field(default=None, kw_only=True, converter=_optional_path)
    instance_discovery: bool | None = field(default=None, kw_only=True)

    @property
    def authority(self) -> str:
        """The msal authority, ``<authority host>/<tenant>``."""
        return f"{(self.authority_host or self.cloud.authority_host).rstrip('/')}/{self.tenant_id}"

    @property
    def graph_root(self) -> str:
        """The Graph root URL without a trailing slash."""
        return (self.graph_url or self.cloud.graph_url).rstrip("/")

    @property
    def scope(self) -> str:
        """The scope requested from Entra ID."""
        return self.graph_scope or self.cloud.graph_scope


@frozen
class LegacyConnection:
    """How to reach the legacy Defender for Cloud Apps REST API of one tenant.

    Args:
        url: the API root, ``https://<tenant>.<region>.portal.cloudappsecurity.com/api``.

    Attributes:
        credential: a legacy API token (``Authorization: Token``), or an Entra
            ID credential for a bearer token (then ``tenant_id`` and
            ``client_id`` are required).
        tenant_id: the tenant, for an Entra ID credential.
        client_id: the app registration, for an Entra ID credential.
        cloud: Entra ID endpoint presets for an Entra ID credential.
        authority_host: overrides the cloud's Entra ID host.
        scope: the scope requested for a bearer token.
        verify: ``True`` or the path of a CA bundle.
        proxies: requests-style proxies.
        http: timeouts, retries, concurrency; by default the documented budget
            of 30 requests per minute per tenant.
        experimental_users: read users of each app through the undocumented
            ``app_users`` endpoint (off by default: Microsoft does not support it).
        token_cache_path: msal's token cache file, for an Entra ID credential.
    """

    url: str = field(validator=_https_url)
    credential: LegacyToken | ClientSecret | ClientCertificate | ClientAssertion = field(
        kw_only=True
    )
    tenant_id: str | None = field(default=None, kw_only=True)
    client_id: str | None = field(default=None, kw_only=True)
    cloud: Cloud = field(default=PUBLIC_CLOUD, kw_only=True)
    authority_host: str | None = field(default=None, kw_only=True, validator=_https_url)
    scope: str = field(default=MDCA_RESOURCE_SCOPE, kw_only=True)
    verify: bool | str = field(default=True, kw_only=True, converter=_verify)
    proxies: Mapping[str, str] = field(
        factory=dict, converter=_proxies, kw_only=True, repr=proxies_repr
    )
    http: HttpPolicy = field(default=LEGACY_HTTP_POLICY, kw_only=True)
    experimental_users: bool = field(default=False, kw_only=True)
    token_cache_path: str | None = field(default=None, kw_only=True, converter=_optional_path)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.credential, LegacyToken) and not (self.tenant_id and self.client_id):
            raise ConfigError(
                key="tenant_id", problem="an Entra ID credential needs tenant_id and client_id"
            )

    @property
    def root(self) -> str:
        """The API root without a trailing slash."""
        return self.url.rstrip("/")

    def graph_like(self) -> GraphConnection:
        """The Entra ID side of a bearer-token legacy connection (for the token provider)."""
        if isinstance(self.credential, LegacyToken):
            raise ConfigError(key="credential", problem="a legacy token needs no Entra ID app")
        return GraphConnection(
            self.tenant_id or "",
            self.client_id or "",
            credential=self.credential,
            cloud=self.cloud,
            authority_host=self.authority_host,
            graph_url=self.url,
            graph_scope=self.scope,
            verify=self.verify,
            proxies=self.proxies,
            http=self.http,
            token_cache_path=self.token_cache_path,
        )
