"""Configuration of a sandbox run: which services, where state lives, how ServiceNow behaves."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
from attrs import field, frozen

from cisync_lib import ConfigError

from ._config_defender import DefenderOptions, GraphThrottle

__all__ = [
    "SERVICE_NAMES",
    "TENANT_SIZE_NAMES",
    "DefenderOptions",
    "GraphThrottle",
    "RateLimitRule",
    "SandboxConfig",
    "ServiceNowOptions",
]

#: every service the sandbox knows, in start order (part 2 adds the Defender services).
SERVICE_NAMES = ("servicenow", "entra", "graph", "mdca")
#: sizes of generated tenants (``SandboxConfig.size``); see ``generate_tenant``.
TENANT_SIZE_NAMES = ("tiny", "small", "medium", "large")

UnknownTables = Literal["error", "create"]
IdentificationRule = Literal["correlation_id", "name"]


def _bad(key: str, problem: str, allowed: str | None = None) -> ConfigError:
    return ConfigError(file="<SandboxConfig>", key=key, problem=problem, allowed=allowed)


def _optional_path(value: object) -> Path | None:
    return None if value is None else Path(str(value))


@frozen(kw_only=True)
class RateLimitRule:
    """A ServiceNow inbound REST rate-limit rule: a per-user request budget per window.

    Attributes:
        requests: how many requests one user may make per window.
        window_seconds: the length of the (fixed) window; ServiceNow's rules are per hour.
    """

    requests: int
    window_seconds: float = 3600.0

    def __attrs_post_init__(self) -> None:
        if self.requests < 1:
            raise _bad("rate_limit.requests", f"must be at least 1, got {self.requests}")
        if self.window_seconds <= 0:
            raise _bad("rate_limit.window_seconds", "must be positive")


@frozen(kw_only=True)
class ServiceNowOptions:
    """How the sandbox's ServiceNow instance behaves where instances differ.

    Attributes:
        case_sensitive: compare strings in encoded queries case-sensitively. Off by
            default: typical instances compare case-insensitively through their
            database collation, and a library must depend on neither.
        strict_queries: answer 400 to an encoded query with a part a real instance
            ignores (an unknown field) instead of ignoring the part, as an instance
            with ``glide.invalid_query.returns_no_rows=true`` does. Parts the sandbox
            does not evaluate (``JOIN``, ``RLQUERY``, unknown operators and
            ``javascript:`` values) are refused with 400 whatever this says.
        time_zone: the system time zone (``glide.sys.default.tz``) for users whose
            ``sys_user.time_zone`` is blank: display values and ``javascript:gs.*``
            date helpers use it. An IANA name.
        max_header_bytes: the largest request line plus headers accepted, as
            Tomcat's ``maxHttpHeaderSize`` in front of an instance; larger requests
            get Tomcat's HTML 400 "Request header is too large". The instance's
            exact value is not documented: requests of about 8,000 characters
            pass and 23,000 are refused, so 16 KiB is the default.
        unknown_tables: ``"error"`` answers 400 "Invalid table" like the real
            service; ``"create"`` creates the table (string columns) on first use.
        identification_rule: the IRE identification rule for
            ``cmdb_ci_business_app``: on ``correlation_id``, on ``name``, or
            ``None`` (IRE then answers ``IDENTIFICATION_RULE_MISSING``).
        data_source: the ``discovery_source`` choice registered for cisync.
        batch_max_items: Batch API items served per call; the rest come back in
            ``unserviced_requests``. ``None``: no limit.
        batch_time_limit: seconds after which a batch stops serving items (the
            "REST Batch API request timeout" quota is 30 s).
        rate_limit: an optional per-user rate limit (429 with ``Retry-After``), as
            the instance's inbound REST rate-limit rules apply.
        api_threads: API transactions served at once, instance-wide (the ``API_INT``
            semaphore: 4 per node); more wait in a queue. ``None``: no limit.
        api_queue: requests that may wait for an API thread; one more gets 429.
        session_sync: run the requests carrying one session cookie one at a time
            (session synchronisation). Requests without a known ``JSESSIONID``
            cookie start a new session and get its cookie.
        session_max_waiters: requests that may wait for their session; one more is
            dropped with 202 ("Session Reuse Queue Overflow").
        token_lifetime: seconds an OAuth access token stays valid.
        honour_no_count: leave out ``X-Total-Count`` when a list asks for
            ``sysparm_no_count=true``, as documented.
        extra_columns: custom string columns per table, e.g.
            ``{"cmdb_ci_business_app": ("u_url",)}``.
        read_acl: rows hidden from every Table API read, per table, as an encoded
            query, e.g. ``{"sys_user": "department.nameSTARTSWITHLegal"}``: like a read
            ACL on a real instance, list pages leave them out while
            ``X-Total-Count`` still counts them, and a GET by sys_id answers 404.
        username: the admin-like integration user.
        password: its password (generated when ``None``; a state folder keeps it).
        readonly_username: a user who can read but gets 403 on writes.
        readonly_password: its password (generated when ``None``).
        oauth_client_id: the OAuth application's client id for ``/oauth_token.do``.
        oauth_client_secret: its secret (generated when ``None``).
        clock: returns the current time (aware UTC); tests pass a fake clock.
    """

    case_sensitive: bool = False
    strict_queries: bool = False
    time_zone: str = "UTC"
    max_header_bytes: int = 16 * 1024
    unknown_tables: UnknownTables = "error"
    identification_rule: IdentificationRule | None = "correlation_id"
    data_source: str = "MSDefenderCloudApps"
    batch_max_items: int | None = None
    batch_time_limit: float = 30.0
    rate_limit: RateLimitRule | None = None
    api_threads: int | None = 4
    api_queue: int = 50
    session_sync: bool = True
    session_max_waiters: int = 10
    token_lifetime: float = 1800.0
    honour_no_count: bool = True
    extra_columns: Mapping[str, tuple[str, ...]] = field(factory=dict)
    read_acl: Mapping[str, str] = field(factory=dict)
    username: str = "cisync.integration"
    password: str | None = field(default=None, repr=False)
    readonly_username: str = "cisync.readonly"
    readonly_password: str | None = field(default=None, repr=False)
    oauth_client_id: str = "cisync-sandbox-client"
    oauth_client_secret: str | None = field(default=None, repr=False)
    clock: Callable[[], datetime] | None = field(default=None, eq=False)

    def __attrs_post_init__(self) -> None:
        if self.unknown_tables not in ("error", "create"):
            raise _bad("servicenow.unknown_tables", "unknown value", "error, create")
        if self.identification_rule not in ("correlation_id", "name", None):
            raise _bad("servicenow.identification_rule", "unknown value", "correlation_id, name")
        if self.batch_max_items is not None and self.batch_max_items < 0:
            raise _bad("servicenow.batch_max_items", "must not be negative")
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise _bad("servicenow.time_zone", f"unknown time zone {self.time_zone!r}") from None
        if self.api_threads is not None and self.api_threads < 1:
            raise _bad("servicenow.api_threads", "must be at least 1 (or None: no limit)")
        if self.api_queue < 0:
            raise _bad("servicenow.api_queue", "must not be negative")
        if self.session_max_waiters < 0:
            raise _bad("servicenow.session_max_waiters", "must not be negative")
        if self.max_header_bytes < 1024:
            raise _bad("servicenow.max_header_bytes", "must be at least 1024")
        if self.token_lifetime <= 0:
            raise _bad("servicenow.token_lifetime", "must be positive")
        if self.username == self.readonly_username:
            raise _bad("servicenow.readonly_username", "must differ from username")


@frozen(kw_only=True)
class SandboxConfig:
    """What a :class:`~cisync_lib.sandbox.Sandbox` starts and how.

    Attributes:
        state_dir: a folder that keeps the data between runs; ``None`` keeps
            everything in memory.
        seed: seeds fault injection (and part 2's generated tenants) so runs repeat.
        size: the generated tenant's size (part 2); ``None`` for an empty instance.
        services: the services to start, each on its own HTTPS port.
        ports: fixed ports per service name; others get an ephemeral port.
        servicenow: the ServiceNow instance's behaviour.
        defender: the Defender side's behaviour (Entra, Graph, legacy REST).
        demo_data: load the data of a personal developer instance (the ``admin``
            user, groups, roles, departments, incidents, problems, ``syslog``,
            ``sys_metadata``), so other clients' test suites can run against it.
            Data only: no business rules run.
        tenant: a Defender snapshot file (``DefenderData.save``) to serve through
            Graph and the legacy API instead of a generated tenant (not with ``size``).
    """

    state_dir: Path | None = field(default=None, converter=_optional_path)
    seed: int = 0
    size: str | None = None
    services: tuple[str, ...] = SERVICE_NAMES
    ports: Mapping[str, int] = field(factory=dict)
    servicenow: ServiceNowOptions = field(factory=ServiceNowOptions)
    defender: DefenderOptions = field(factory=DefenderOptions)
    demo_data: bool = False
    tenant: Path | None = field(default=None, converter=_optional_path)

    def __attrs_post_init__(self) -> None:
        allowed = ", ".join(SERVICE_NAMES)
        if self.tenant is not None and self.size is not None:
            raise _bad("tenant", "give either a tenant file or a generated tenant size, not both")
        for name in self.services:
            if name not in SERVICE_NAMES:
                raise _bad("services", f"unknown service {name!r}", allowed)
        if self.size is not None and self.size not in TENANT_SIZE_NAMES:
            raise _bad("size", f"unknown tenant size {self.size!r}", ", ".join(TENANT_SIZE_NAMES))
        if len(set(self.services)) != len(self.services):
            raise _bad("services", "a service is listed twice")
        for name, port in self.ports.items():
            if name not in SERVICE_NAMES:
                raise _bad(f"ports.{name}", "unknown service", allowed)
            if not 0 <= port <= 65535:
                raise _bad(f"ports.{name}", f"port {port} is out of range")

    def evolve(self, **changes: object) -> SandboxConfig:
        """Return a copy with some attributes changed (``attrs.evolve``)."""
        return attrs.evolve(self, **changes)  # type: ignore[arg-type]
