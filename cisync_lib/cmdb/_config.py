"""How the CMDB writer maps apps and links onto an instance, and its safety policies."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType

from attrs import field, frozen, validators

from cisync_lib.errors import ConfigError

__all__ = [
    "CURATED_FIELDS",
    "DEFAULT_FIELD_POLICY",
    "CmdbConfig",
    "FieldPolicy",
    "GracePolicy",
    "GuardPolicy",
    "AppScope",
    "LinkOwnership",
    "ScopePolicy",
    "WritePath",
]


class FieldPolicy(str, enum.Enum):
    """When the library may write a Business Application field."""

    #: written on insert and overwritten whenever the desired value differs
    ALWAYS = "always"
    #: written on insert only; later changes (by people) are kept
    INSERT = "insert"
    #: never written
    NEVER = "never"


#: The fields the library produces values for, and when it writes them.
#: ``operational_status`` is written on insert, on retire and when a retired
#: app comes back; ``last_discovered`` only when older than the heartbeat.
DEFAULT_FIELD_POLICY: Mapping[str, FieldPolicy] = MappingProxyType(
    {
        "name": FieldPolicy.ALWAYS,
        "short_description": FieldPolicy.ALWAYS,
        "application_type": FieldPolicy.ALWAYS,
        "install_type": FieldPolicy.ALWAYS,
        "vendor": FieldPolicy.ALWAYS,
        "discovery_source": FieldPolicy.ALWAYS,
        "operational_status": FieldPolicy.ALWAYS,
        "first_discovered": FieldPolicy.INSERT,
        "last_discovered": FieldPolicy.ALWAYS,
    }
)

#: Fields curated by people in APM/CSDM; the library has no value for them and
#: never writes them (listed for documentation and the ownership check).
CURATED_FIELDS = frozenset(
    {
        "business_owner",
        "it_application_owner",
        "owned_by",
        "managed_by",
        "managed_by_group",
        "supported_by",
        "support_group",
        "business_criticality",
        "data_classification",
        "emergency_tier",
        "number",
        "user_base",
        "architecture_type",
        "platform_host",
        "life_cycle_stage",
        "life_cycle_stage_status",
    }
)


class WritePath(str, enum.Enum):
    """How Business Application CIs are written (user links always use the Table API)."""

    TABLE = "table"
    IRE = "ire"


class LinkOwnership(str, enum.Enum):
    """Which in-scope user links the library may remove."""

    #: only rows this integration created (``sys_created_by`` is the integration user)
    CREATOR = "creator"
    #: every row of the configured type on a managed app
    SCOPE = "scope"


@frozen(kw_only=True)
class GracePolicy:
    """How long an app or link must be missing before it is retired or removed.

    Both conditions must hold: more than ``runs`` consecutive completed runs
    missed it, and it has been missing at least ``days`` days.

    Attributes:
        runs: consecutive runs an item may be missing and still be kept.
        days: days it must also have been missing (0: only runs count).
    """

    runs: int = field(default=3, validator=validators.ge(0))
    days: float = field(default=0.0, validator=validators.ge(0))


@frozen(kw_only=True)
class GuardPolicy:
    """The blast-radius guard: refuse runs that remove too much at once.

    Attributes:
        max_retire_percent: largest share of managed apps one run may retire.
        max_unlink_percent: largest share of managed links one run may remove.
        min_count: removals up to this many are always allowed (0: none).
    """

    max_retire_percent: float = field(
        default=10.0, validator=[validators.ge(0), validators.le(100)]
    )
    max_unlink_percent: float = field(
        default=20.0, validator=[validators.ge(0), validators.le(100)]
    )
    min_count: int = field(default=0, validator=validators.ge(0))


class AppScope(str, enum.Enum):
    """Which discovered apps are synced, by their sanction state."""

    #: every app, whatever its sanction state
    ALL = "all"
    #: only sanctioned apps
    SANCTIONED = "sanctioned"
    #: sanctioned and monitored apps
    SANCTIONED_OR_MONITORED = "sanctioned_or_monitored"


def _app_scope(value: AppScope | str) -> AppScope:
    try:
        return AppScope(value)
    except ValueError as exc:
        raise ConfigError(
            key="app_scope",
            problem=f"unknown scope {value!r}",
            allowed=", ".join(s.value for s in AppScope),
        ) from exc


@frozen(kw_only=True)
class ScopePolicy:
    """Which discovered apps and user links become desired CIs (the connection's filters).

    Attributes:
        max_risk_score: apps with a higher risk score are left out (10 keeps every app).
        app_scope: which apps are kept by sanction state.
        allow_user_sync: the connection's "Allow User Synchronization": without it
            no user link is desired.
    """

    max_risk_score: int = field(default=10, validator=[validators.ge(0), validators.le(10)])
    app_scope: AppScope = field(default=AppScope.ALL, converter=_app_scope)
    allow_user_sync: bool = False


def _policy(value: Mapping[str, FieldPolicy | str]) -> Mapping[str, FieldPolicy]:
    try:
        return MappingProxyType({k: FieldPolicy(v) for k, v in value.items()})
    except ValueError as exc:
        raise ConfigError(
            key="cmdb.field_policy", problem=str(exc), allowed="always, insert, never"
        ) from exc


@frozen(kw_only=True)
class CmdbConfig:
    """Everything the CMDB writer needs to know about the target instance.

    Attributes:
        app_class: the CI class for apps (product rule 3).
        correlation_prefix: ``correlation_id`` = prefix + Defender app id.
        adopt_by_name: adopt an existing CI of the class with exactly the same
            name and no ``correlation_id`` instead of inserting (the product's behaviour).
        discovery_source: the ``cmdb_ci.discovery_source`` value written.
        description_field: where the ``key: value`` attribute block goes.
        description_max_length: the field's length; longer blocks are cut at a line.
        application_type_label: the ``application_type`` choice label to use.
        install_type_label: the ``install_type`` choice label to use.
        operational_label: the ``operational_status`` label of a live app.
        retired_label: the ``operational_status`` label of a retired app.
        vendor_table: where vendors are looked up by name.
        create_vendors: insert a vendor company that does not exist yet.
        field_policy: per field, when the library may write it.
        heartbeat: ``last_discovered`` is refreshed only when older than this.
        link_table: the user-link table.
        rel_type_table: the user relationship type table.
        rel_type_name: the relationship type, looked up by name.
        link_ownership: which in-scope links may be removed.
        integration_user: the account whose links count as ours (default: the
            connection's user, or the one learnt from our own inserts).
        remove_links_when_user_sync_off: with user sync off, remove our links
            (through the guard) instead of leaving them.
        grace: the grace period before retiring or unlinking.
        guard: the blast-radius guard.
        write_path: Table API (default) or IRE for app CIs.
        batch_size: Table API writes per Batch API call (500, chosen by measurement:
            see the tuning guide).
        ci_batch_size: CI writes (apps, vendors) per Batch API call at most; they
            run more business rules than links, and a call must finish within the
            instance's Batch API quota (30 s by default).
        ire_batch_size: CIs per IRE call (at most 500).
        in_chunk: values per ``IN`` list when re-reading.
        max_rounds: attempts to settle writes whose outcome is unknown.
    """

    app_class: str = "cmdb_ci_business_app"
    correlation_prefix: str = field(default="mdca:app:", validator=validators.min_len(1))
    adopt_by_name: bool = True
    discovery_source: str = "MSDefenderCloudApps"
    description_field: str = "short_description"
    description_max_length: int = field(default=1000, validator=validators.ge(40))
    application_type_label: str = "SaaS"
    install_type_label: str = "Cloud"
    operational_label: str = "Operational"
    retired_label: str = "Retired"
    vendor_table: str = "core_company"
    create_vendors: bool = False
    field_policy: Mapping[str, FieldPolicy] = field(
        factory=lambda: dict(DEFAULT_FIELD_POLICY), converter=_policy
    )
    heartbeat: timedelta = timedelta(hours=24)
    link_table: str = "cmdb_rel_person"
    rel_type_table: str = "cmdb_rel_user_type"
    rel_type_name: str = "Used by"
    link_ownership: LinkOwnership = LinkOwnership.CREATOR
    integration_user: str | None = None
    remove_links_when_user_sync_off: bool = False
    grace: GracePolicy = GracePolicy()
    guard: GuardPolicy = GuardPolicy()
    write_path: WritePath = WritePath.TABLE
    batch_size: int = field(default=500, validator=[validators.ge(1), validators.le(1000)])
    ci_batch_size: int = field(default=100, validator=[validators.ge(1), validators.le(1000)])
    ire_batch_size: int = field(default=100, validator=[validators.ge(1), validators.le(500)])
    in_chunk: int = field(default=100, validator=[validators.ge(1), validators.le(500)])
    max_rounds: int = field(default=4, validator=validators.ge(1))

    def policy(self, name: str) -> FieldPolicy:
        """The write policy of a field (fields not listed are never written)."""
        return self.field_policy.get(name, FieldPolicy.NEVER)
