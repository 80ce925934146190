"""Options of the sandbox's Defender side: Entra authority, Graph and the legacy MDCA API."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from attrs import field, frozen

from cisync_lib import ConfigError

__all__ = ["DefenderOptions", "GraphThrottle"]


def _bad(key: str, problem: str) -> ConfigError:
    return ConfigError(file="<SandboxConfig>", key=f"defender.{key}", problem=problem)


@frozen(kw_only=True)
class GraphThrottle:
    """A Graph throttling policy: a token bucket per app per tenant, answered with 429.

    Graph documents no limit for ``cloudAppDiscovery``; the related ``/security``
    alerts API allows 150 requests per minute per app per tenant, the tight
    policy to test against. Every request counts, each inner request of a
    ``$batch`` on its own (the envelope does not), as Graph evaluates them.

    Attributes:
        requests: requests allowed per ``period`` (the bucket's refill).
        period: the refill period, in seconds.
        burst: the bucket's size: requests allowed at once after a quiet spell
            (``None``: ``requests``, a whole period's worth).
    """

    requests: int
    period: float = 60.0
    burst: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.requests < 1:
            raise _bad("graph_throttle.requests", f"must be at least 1, got {self.requests}")
        if self.period <= 0:
            raise _bad("graph_throttle.period", "must be positive")
        if self.burst is not None and self.burst < 1:
            raise _bad("graph_throttle.burst", "must be at least 1 (or None)")

    @property
    def rate(self) -> float:
        """Requests allowed per second, once the burst is spent."""
        return self.requests / self.period

    @property
    def capacity(self) -> int:
        """The bucket's size."""
        return self.burst if self.burst is not None else self.requests


def _throttles(value: Mapping[str, GraphThrottle] | None) -> Mapping[str, GraphThrottle]:
    return MappingProxyType(dict(value or {}))


@frozen(kw_only=True)
class DefenderOptions:
    """How the sandbox's Entra, Graph and legacy Defender for Cloud Apps services behave.

    Attributes:
        graph_page_size: items per Graph page (Graph's own size is undocumented;
            clients must follow ``@odata.nextLink`` whatever it is). ``$top`` can
            only lower it.
        mdca_page_limit: the most items one legacy REST response holds (100, as documented).
        mdca_rate_limit: requests per window per tenant on the legacy REST API,
            answered with 429 beyond it (documented: 30 per minute). ``None``: no limit.
        mdca_rate_window: the sliding window of ``mdca_rate_limit``, in seconds.
        graph_throttle: the Graph throttling policy of every app (``None``: none);
            see :class:`~cisync_lib.sandbox.GraphThrottle`.
        graph_throttle_apps: policies for particular apps (client ids), overriding
            ``graph_throttle``.
        token_lifetime: seconds an Entra access token stays valid (``expires_in``).
        tenant_id: the tenant id; derived from the sandbox seed when ``None``.
        client_id: the registered app's id; derived from the seed when ``None``.
        client_secret: the app's client secret (generated when ``None``).
        mdca_token: the legacy API token (64 hex digits, generated when ``None``).
        pfx_passphrase: the passphrase of the client certificate's PFX file.
    """

    graph_page_size: int = 100
    mdca_page_limit: int = 100
    mdca_rate_limit: int | None = 30
    mdca_rate_window: float = 60.0
    graph_throttle: GraphThrottle | None = None
    graph_throttle_apps: Mapping[str, GraphThrottle] = field(factory=dict, converter=_throttles)
    token_lifetime: int = 3599
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    mdca_token: str | None = field(default=None, repr=False)
    pfx_passphrase: str = field(default="cisync-sandbox", repr=False)

    def __attrs_post_init__(self) -> None:
        if self.graph_page_size < 1:
            raise _bad("graph_page_size", "must be at least 1")
        if not 1 <= self.mdca_page_limit <= 100:
            raise _bad("mdca_page_limit", "must be between 1 and 100")
        if self.mdca_rate_limit is not None and self.mdca_rate_limit < 1:
            raise _bad("mdca_rate_limit", "must be at least 1 (or None for no limit)")
        if self.mdca_rate_window <= 0:
            raise _bad("mdca_rate_window", "must be positive")
        if self.token_lifetime < 1:
            raise _bad("token_lifetime", "must be at least 1 second")
