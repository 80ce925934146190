"""Options of the sandbox's Defender side: Entra authority, Graph and the legacy MDCA API."""

from __future__ import annotations

from attrs import field, frozen

from cisync_lib._errors import ConfigError

__all__ = ["DefenderOptions"]


def _bad(key: str, problem: str) -> ConfigError:
    return ConfigError(file="<SandboxConfig>", key=f"defender.{key}", problem=problem)


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
