"""Typed models of what Defender for Cloud Apps reports.

The models know nothing about wire formats: names are snake_case and values
are Python types. :mod:`cisync_lib._converter` maps Microsoft Graph (and
legacy REST) payloads onto them. Change a model with :func:`attrs.evolve`.
"""

from __future__ import annotations

import enum
from datetime import datetime

from attrs import field, frozen, validators

__all__ = [
    "AppCategory",
    "AppInfo",
    "AppUser",
    "DiscoveredApp",
    "DiscoveryStream",
    "Holding",
    "LogDataProvider",
    "SanctionState",
]


class AppCategory(str, enum.Enum):
    """Graph's ``appCategory`` values (a selection; unknown values stay strings)."""

    COLLABORATION = "collaboration"
    CLOUD_STORAGE = "cloudStorage"
    HOSTING_SERVICES = "hostingServices"
    CRM = "crm"
    WEBEMAIL = "webemail"
    MARKETING = "marketing"
    SALES = "sales"
    HUMAN_RESOURCE_MANAGEMENT = "humanResourceManagement"
    ACCOUNTING_AND_FINANCE = "accountingAndFinance"
    DEVELOPMENT_TOOLS = "developmentTools"
    IT_SERVICES = "itServices"
    SECURITY = "security"
    SOCIAL_NETWORK = "socialNetwork"
    CONTENT_MANAGEMENT = "contentManagement"
    COMMUNICATIONS = "communications"
    PRODUCTIVITY = "productivity"
    BUSINESS_MANAGEMENT = "businessManagement"
    ONLINE_MEETINGS = "onlineMeetings"
    GENERATIVE_AI = "generativeAi"
    ADVERTISING = "advertising"
    UNKNOWN = "unknown"
    UNKNOWN_FUTURE_VALUE = "unknownFutureValue"


class LogDataProvider(str, enum.Enum):
    """Graph's ``logDataProvider`` values (a selection; unknown values stay strings)."""

    BARRACUDA = "barracuda"
    BLUECOAT = "bluecoat"
    CHECKPOINT = "checkpoint"
    CISCO_ASA_FIREPOWER = "ciscoAsaFirepower"
    FORTIGATE = "fortigate"
    MICROSOFT_DEFENDER_FOR_ENDPOINT = "microsoftDefenderForEndpoint"
    PALO_ALTO = "paloAlto"
    SQUID = "squid"
    ZSCALER = "zscaler"
    UNKNOWN_FUTURE_VALUE = "unknownFutureValue"


class Holding(str, enum.Enum):
    """Whether the app's vendor is privately or publicly held."""

    PRIVATE = "private"
    PUBLIC = "public"
    UNKNOWN = "unknown"


class SanctionState(str, enum.Enum):
    """The sanction state an administrator gave the app, derived from its tags."""

    SANCTIONED = "sanctioned"
    UNSANCTIONED = "unsanctioned"
    MONITORED = "monitored"
    NONE = "none"


_SANCTION_TAGS = {
    "sanctioned": SanctionState.SANCTIONED,
    "unsanctioned": SanctionState.UNSANCTIONED,
    "monitored": SanctionState.MONITORED,
}


@frozen(kw_only=True)
class DiscoveryStream:
    """A Cloud Discovery stream (continuous report or snapshot) in the tenant.

    Attributes:
        id: the stream id, opaque.
        display_name: the name shown in the portal.
        description: free text.
        is_snapshot: True for a one-off snapshot report; not synced by default.
        anonymize_users: user names in this stream are encrypted tokens.
        anonymize_devices: device names in this stream are encrypted tokens.
        log_data_provider: the appliance the logs come from.
        receiver_protocol: how logs reach Defender (``syslogTcp``, ...).
        created: when the stream was created.
        last_modified: when its settings last changed.
        last_data_received: when it last received data.
        supported_entity_types: entity types its logs carry.
        supported_traffic_types: traffic measures its logs carry.
        log_file_count: number of log files received.
    """

    id: str
    display_name: str
    description: str = ""
    is_snapshot: bool = False
    anonymize_users: bool = False
    anonymize_devices: bool = False
    log_data_provider: LogDataProvider | str | None = None
    receiver_protocol: str | None = None
    created: datetime | None = None
    last_modified: datetime | None = None
    last_data_received: datetime | None = None
    supported_entity_types: tuple[str, ...] = ()
    supported_traffic_types: tuple[str, ...] = ()
    log_file_count: int | None = None

    @property
    def is_endpoint(self) -> bool:
        """Whether the stream comes from Defender for Endpoint (devices are available)."""
        return self.log_data_provider == LogDataProvider.MICROSOFT_DEFENDER_FOR_ENDPOINT


def _non_negative(_inst: object, attribute: object, value: int | None) -> None:
    if value is not None and value < 0:
        name = getattr(attribute, "name", "value")
        raise ValueError(f"{name} must not be negative, got {value}")


@frozen(kw_only=True)
class DiscoveredApp:
    """A cloud app seen in one discovery stream over one report period.

    Attributes:
        id: Defender's app id (the cloud app catalog id), always a string.
        name: the app's name.
        category: the catalog category.
        risk_score: 0 (riskiest) to 10 (least risky).
        tags: administrator tags (``Sanctioned``, ``Unsanctioned``,
            ``Monitored`` or custom).
        domains: domains that identify the app's traffic.
        user_count: distinct users seen.
        ip_address_count: distinct IP addresses seen.
        transaction_count: transactions seen.
        device_count: distinct devices seen (endpoint streams only).
        upload_bytes: bytes uploaded.
        download_bytes: bytes downloaded.
        last_seen: the last time traffic was seen.
        stream_id: the stream this observation comes from (set by the source).
        period: the report period, ``P7D``, ``P30D`` or ``P90D`` (set by the source).
    """

    id: str = field(validator=validators.min_len(1))
    name: str
    category: AppCategory | str = AppCategory.UNKNOWN
    risk_score: int = field(validator=[validators.ge(0), validators.le(10)])
    tags: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    user_count: int = field(default=0, validator=_non_negative)
    ip_address_count: int = field(default=0, validator=_non_negative)
    transaction_count: int = field(default=0, validator=_non_negative)
    device_count: int | None = field(default=None, validator=_non_negative)
    upload_bytes: int = field(default=0, validator=_non_negative)
    download_bytes: int = field(default=0, validator=_non_negative)
    last_seen: datetime | None = None
    stream_id: str | None = None
    period: str | None = None

    @property
    def total_bytes(self) -> int:
        """Uploaded plus downloaded bytes (Graph has no total of its own)."""
        return self.upload_bytes + self.download_bytes

    @property
    def sanction_state(self) -> SanctionState:
        """The sanction state from the tags; ``Unsanctioned`` wins over ``Sanctioned``."""
        found = {_SANCTION_TAGS[t.casefold()] for t in self.tags if t.casefold() in _SANCTION_TAGS}
        for state in (
            SanctionState.UNSANCTIONED,
            SanctionState.SANCTIONED,
            SanctionState.MONITORED,
        ):
            if state in found:
                return state
        return SanctionState.NONE

    @property
    def is_endpoint(self) -> bool:
        """Whether this observation comes from an endpoint (Defender for Endpoint) stream."""
        return self.device_count is not None


@frozen(kw_only=True, hash=False)
class AppInfo:
    """Catalog information about an app: vendor and compliance facts.

    Attributes:
        vendor: the vendor's name.
        headquarters: where the vendor is based.
        hosting_company: who hosts the app.
        founded: the year the vendor was founded.
        holding: private or public.
        data_center: where the app's data centres are.
        logon_urls: the app's sign-in URLs.
        domain_registration: when the app's domain was registered.
        latest_breach: the latest known breach.
        csa_star_level: CSA STAR level.
        data_at_rest_encryption_method: how data at rest is encrypted.
        data_retention_policy: the vendor's retention policy.
        data_types: the kinds of data users upload.
        fed_ramp_level: FedRAMP level.
        pci_dss_version: PCI DSS version.
        tls_encryption_protocol: the TLS version in use.
        flags: the catalog's yes/no/unknown facts, keyed by snake_case name
            (``is_soc2_compliant``); ``None`` means unknown.
    """

    vendor: str | None = None
    headquarters: str | None = None
    hosting_company: str | None = None
    founded: int | None = None
    holding: Holding | str | None = None
    data_center: str | None = None
    logon_urls: str | None = None
    domain_registration: datetime | None = None
    latest_breach: datetime | None = None
    csa_star_level: str | None = None
    data_at_rest_encryption_method: str | None = None
    data_retention_policy: str | None = None
    data_types: str | None = None
    fed_ramp_level: str | None = None
    pci_dss_version: str | None = None
    tls_encryption_protocol: str | None = None
    flags: dict[str, bool | None] = field(factory=dict)

    def __hash__(self) -> int:
        # the flags dict is not hashable; hash on the frozen view of it
        return hash((self.vendor, self.founded, tuple(sorted(self.flags.items()))))


@frozen(kw_only=True)
class AppUser:
    r"""One user identifier Defender reported for an app in a stream.

    Attributes:
        identifier: the raw, case-preserving identifier (UPN, ``DOMAIN\user``,
            ``user\COMPUTER``, ``AnonymousUser``, an encrypted token, or empty).
        app_id: the app it was reported for.
        stream_id: the stream it was reported in.
        anonymized: the stream anonymizes user names, so the identifier is a token.
    """

    identifier: str
    app_id: str = ""
    stream_id: str = ""
    anonymized: bool = False
