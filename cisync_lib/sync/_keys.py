"""The deployment config's tables as typed classes, read by the strict converter and the docs.

Each table is a frozen attrs class; the settings loader structures the file
into :class:`DeploymentDocument` with its strict converter (unknown keys, wrong
types and values not allowed are errors naming file, line and key). What a key
means and its default as shown to users live in the field's metadata, so the
configuration reference is rendered from the same declarations that validate.
Checks that involve several keys (a Graph connection needs a tenant) are in
:mod:`._specs`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Literal

import attrs
from attrs import field, frozen

from cisync_lib.cmdb import CmdbConfig
from cisync_lib.correlation import CorrelatorConfig
from cisync_lib.errors import ConfigError
from cisync_lib.settings import (
    ConnectionTable,
    Environment,
    HttpsUrl,
    NonEmptyStr,
    ProxyUrl,
    RelationshipKind,
    SettingsDocument,
    describe_found,
    describe_type,
)

from ._secrets import SECRET_KEYS, env_var_name, is_secret_key

__all__ = [
    "CONNECTION_KEYS",
    "CORRELATION_KEYS",
    "DESTINATION_KEYS",
    "SYNC_KEYS",
    "CorrelationTable",
    "DeploymentDocument",
    "DestinationTable",
    "KeySpec",
    "SourceTable",
    "SyncTable",
    "refuse_secret",
]

Cloud = Literal["public", "us_gov", "us_gov_dod"]
Credential = Literal["secret", "certificate", "token"]
AuthKind = Literal["basic", "oauth_client_credentials", "oauth_password"]
WritePath = Literal["table", "ire"]
ProxyScheme = Literal["http", "https"]


def _between(low: float, high: float | None, what: str) -> Callable[[Any, Any, Any], None]:
    expected = f"{what} {low:g}..{high:g}" if high is not None else f"{what} >= {low:g}"

    def check(_: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
        if value is not None and (value < low or (high is not None and value > high)):
            raise ConfigError(
                key=attribute.name, problem=f"expected {expected}, got {describe_found(value)}"
            )

    return check


def _doc(doc: str, shown: str = "", accepts: str = "") -> Mapping[str, str]:
    # a key's metadata for the configuration reference: what it means, its default as shown,
    # and what it accepts when the type alone does not say it all (a range)
    return {"doc": doc, "default": shown, "accepts": accepts}


def _no_proxies() -> Mapping[ProxyScheme, ProxyUrl]:
    return MappingProxyType({})


_CA_BUNDLE_DOC = (
    "A PEM file of CA certificates to trust instead of the system's (relative paths are "
    "relative to the config file)."
)
_PROXIES = '{ http = "...", https = "..." }'
_VERIFY_DOC = "Verify TLS certificates. Turning it off is for throwaway test instances only."
_PROXIES_DOC = (
    'Proxy URLs by scheme, e.g. ``{ https = "http://proxy.example:8080" }``. Environment '
    "proxy variables are never read implicitly."
)


@frozen(kw_only=True)
class SourceTable(ConnectionTable):
    """A ``[connections.<name>]`` table: a Defender source, besides its settings and log."""

    tenant_id: NonEmptyStr | None = field(
        default=None, metadata=_doc("The Entra tenant id (graph, legacy with Entra).")
    )
    client_id: NonEmptyStr | None = field(
        default=None, metadata=_doc("The Entra application (client) id.")
    )
    cloud: Cloud = field(
        default="public",
        metadata=_doc("The Microsoft cloud whose sign-in and Graph hosts to use.", '"public"'),
    )
    authority_host: HttpsUrl | None = field(
        default=None,
        metadata=_doc(
            "Overrides the cloud's Entra sign-in host (``https://login.microsoftonline.com``)."
        ),
    )
    graph_url: HttpsUrl | None = field(
        default=None, metadata=_doc("Overrides the cloud's Microsoft Graph root.")
    )
    graph_scope: NonEmptyStr | None = field(
        default=None, metadata=_doc("Overrides the Graph ``.default`` scope.")
    )
    credential: Credential | None = field(
        default=None,
        metadata=_doc(
            "How the source authenticates: a client secret, a certificate (``certificate_path``), "
            "or a legacy API token. The secret itself comes from the environment or the secrets "
            "file.",
            '"secret" (graph), "token" (legacy)',
        ),
    )
    certificate_path: NonEmptyStr | None = field(
        default=None,
        metadata=_doc(
            'A PEM (private key and certificate) or PFX file for ``credential = "certificate"``; '
            "a passphrase goes in the secrets file."
        ),
    )
    thumbprint: NonEmptyStr | None = field(
        default=None, metadata=_doc("The certificate's SHA-1 thumbprint (PEM).")
    )
    url: HttpsUrl | None = field(
        default=None, metadata=_doc('The legacy API\'s base URL (``kind = "legacy"``).')
    )
    path: NonEmptyStr | None = field(
        default=None, metadata=_doc('The snapshot file (``kind = "snapshot"``).')
    )
    streams: tuple[NonEmptyStr, ...] | None = field(
        default=None, metadata=_doc("Discovery stream ids or names to read.")
    )
    requests_per_second: float | None = field(
        default=None,
        validator=_between(0, None, "a number"),
        metadata=_doc(
            "A fixed client-side request budget towards Defender. Unset, Graph requests adapt to "
            "the service (more in flight while answers are fast, fewer after a 429); set, the rate "
            "is pinned. The legacy API allows 30 per minute; 0 turns the budget off.",
            "adaptive (graph), 0.5 (legacy)",
            accepts="a number >= 0",
        ),
    )
    concurrency: int | None = field(
        default=None,
        validator=_between(1, 32, "an integer"),
        metadata=_doc(
            "Parallel requests when reading each app's users (1 to 32); for Graph, the most its "
            "adaptive limit may reach.",
            "16 (graph), 4 (legacy)",
            accepts="an integer 1..32",
        ),
    )
    ca_bundle: NonEmptyStr | None = field(default=None, metadata=_doc(_CA_BUNDLE_DOC))
    verify: bool = field(default=True, metadata=_doc(_VERIFY_DOC, "true"))
    proxies: Mapping[ProxyScheme, ProxyUrl] = field(
        default=attrs.Factory(_no_proxies), metadata=_doc(_PROXIES_DOC, accepts=_PROXIES)
    )


@frozen(kw_only=True)
class DestinationTable:
    """A ``[destinations.<name>]`` table: a ServiceNow instance, without secrets."""

    instance_url: HttpsUrl = field(
        metadata={"doc": "The instance, e.g. ``https://contoso.service-now.com``.", "default": ""}
    )
    environment: Environment = field(
        metadata={
            "doc": "The destination's tag: which settings (TEST or PROD) a job into it uses.",
            "default": "",
        }
    )
    auth: AuthKind = field(
        default="basic",
        metadata=_doc(
            "How to sign in: basic (``username`` + password secret), OAuth client credentials "
            "(``client_id`` + client secret) or OAuth password grant (both).",
            '"basic"',
        ),
    )
    username: NonEmptyStr | None = field(
        default=None, metadata=_doc("The integration user (basic, oauth_password).")
    )
    client_id: NonEmptyStr | None = field(
        default=None, metadata=_doc("The OAuth application's client id.")
    )
    page_size: int | None = field(
        default=None,
        validator=_between(1, None, "an integer"),
        metadata=_doc(
            "Rows per read page (default: 1000 for reads of many fields, 10,000 for narrow reads "
            "such as user links and ``sys_user``).",
            accepts="an integer >= 1",
        ),
    )
    sessions: int = field(
        default=4,
        validator=_between(1, 32, "an integer"),
        metadata=_doc(
            "ServiceNow sessions used at once, each with its own cookie (so the instance runs "
            "their requests in parallel); also the most requests in flight. 1 sends one request "
            "at a time. Keep it at or below the instance's API semaphore (4 per node).",
            "4",
            accepts="an integer 1..32",
        ),
    )
    batch_size: int | None = field(
        default=None,
        validator=_between(1, 1000, "an integer"),
        metadata=_doc(
            "Table API writes per Batch API call (1..1000).",
            str(CmdbConfig().batch_size),
            accepts="an integer 1..1000",
        ),
    )
    ca_bundle: NonEmptyStr | None = field(default=None, metadata=_doc(_CA_BUNDLE_DOC))
    verify: bool = field(default=True, metadata=_doc(_VERIFY_DOC, "true"))
    proxies: Mapping[ProxyScheme, ProxyUrl] = field(
        default=attrs.Factory(_no_proxies), metadata=_doc(_PROXIES_DOC, accepts=_PROXIES)
    )
    unsafe_allow_unverified_tls_in_prod: bool = field(
        default=False,
        metadata=_doc(
            "``verify = false`` is refused for a PROD destination unless this is ``true``. Do "
            "not: set ``ca_bundle`` to the CA's PEM file instead. When set, every report of the "
            "destination carries a warning.",
            "false",
        ),
    )


@frozen(kw_only=True)
class SyncTable:
    """The ``[sync]`` table: how jobs run."""

    connection: NonEmptyStr | None = field(
        default=None,
        metadata=_doc(
            "The source connection jobs use when the command line names none (required when the "
            "config has more than one)."
        ),
    )
    write_path: WritePath = field(
        default="table",
        metadata=_doc(
            'How Business Applications are written: ``"table"`` (Table API, no instance set-up) '
            'or ``"ire"`` (Identification and Reconciliation Engine; needs the data source and an '
            "identification rule registered).",
            '"table"',
        ),
    )
    state_dir: NonEmptyStr = field(
        default=NonEmptyStr(".cisync/state"),
        metadata=_doc(
            "Where a job keeps its run state (grace-period bookkeeping) and reports, one "
            "sub-folder per connection and destination.",
            '".cisync/state"',
        ),
    )
    lock_wait: float = field(
        default=10.0,
        validator=_between(0, None, "a number"),
        metadata=_doc(
            "Seconds a writing run waits for another run on the same destination and state folder "
            "to finish before it refuses (exit code 3). Only one run writes at a time.",
            "10",
            accepts="a number >= 0",
        ),
    )
    keep_reports: int = field(
        default=30,
        validator=_between(1, None, "an integer"),
        metadata=_doc(
            "How many run reports each state folder keeps under ``reports/``; older ones are "
            "deleted after each run (``last.json`` is a small pointer to the latest).",
            "30",
            accepts="an integer >= 1",
        ),
    )
    secrets_file: NonEmptyStr | None = field(
        default=None,
        metadata=_doc(
            "A TOML file with the secrets (``[connections.<name>]`` / ``[destinations.<name>]``). "
            "Keep it out of version control and readable only by the sync's user."
        ),
    )
    relationships: tuple[RelationshipKind, ...] | None = field(
        default=None,
        metadata=_doc(
            'The relationships jobs select: ``"Cloud App"`` and ``"User uses Cloud App"``. A '
            "relationship the environment's settings do not make available is refused.",
            "every available one",
        ),
    )


@frozen(kw_only=True)
class CorrelationTable:
    """The ``[correlation]`` table: the chain, the alias map and the correlator's rules."""

    chain: tuple[NonEmptyStr, ...] | None = field(
        default=None,
        metadata=_doc(
            "The ordered strategies by name (``alias_map``, ``email``, ``upn_user_name``, "
            "``email_upn``, ``domain_alias``, ``downlevel``, ``plus_tag_strip``, "
            "``proxy_address``, ``local_part``, or the name of a strategy an installed package "
            "registers in the entry-point group ``cisync_lib.correlation``).",
            "the default chain",
        ),
    )
    alias_map: NonEmptyStr | None = field(
        default=None,
        metadata=_doc(
            "An alias-map file (CSV or YAML): explicit decisions, e.g. the filled-in unmatched "
            "report."
        ),
    )
    options: CorrelatorConfig = field(
        default=attrs.Factory(CorrelatorConfig),
        metadata=_doc(
            "Correlator rules (``CorrelatorConfig`` attributes): ``domain_aliases``, "
            "``netbios_domains``, ``plus_tag_domains``, ``inactive_policy``, ..."
        ),
    )


def _no_sources() -> Mapping[str, SourceTable]:
    return MappingProxyType({})


def _no_destinations() -> Mapping[str, DestinationTable]:
    return MappingProxyType({})


@frozen(kw_only=True)
class DeploymentDocument(SettingsDocument):
    """A whole deployment config, as typed tables (before the checks across keys)."""

    connections: Mapping[str, SourceTable] = field(factory=_no_sources)
    destinations: Mapping[str, DestinationTable] = field(factory=_no_destinations)
    sync: SyncTable = field(factory=SyncTable)
    correlation: CorrelationTable = field(factory=CorrelationTable)

    @classmethod
    def explain_unknown(cls, path: tuple[str | int, ...]) -> ConfigError | None:
        """A secret written into the config is refused as such, naming its variable."""
        return refuse_secret(path)


def refuse_secret(path: tuple[str | int, ...]) -> ConfigError | None:
    """The error for a secret written into the config itself (``None``: not a secret's key)."""
    leaf = path[-1]
    if not isinstance(leaf, str):
        return None
    section = str(path[0])
    named = len(path) == 3 and leaf in SECRET_KEYS.get(section, ())
    if not (named or is_secret_key(leaf)):
        return None
    owner = str(path[1]) if len(path) >= 3 else section
    return ConfigError(
        problem=(
            "secrets never go in the config file; put it in the secrets file named by "
            f"sync.secrets_file or in the environment variable {env_var_name(owner, leaf)}"
        )
    )


@frozen(kw_only=True)
class KeySpec:
    """One key of a deployment-config table, as the configuration reference shows it.

    Attributes:
        name: the key.
        accepts: what a value looks like.
        doc: what it means.
        default: the value used when the key is absent, as shown in the reference.
        required: whether the key must be present.
    """

    name: str
    accepts: str
    doc: str
    default: str = ""
    required: bool = False


def _specs(table: type, *, skip: tuple[str, ...] = ()) -> Mapping[str, KeySpec]:
    attrs.resolve_types(table)  # the annotations are strings (postponed evaluation)
    specs = {}
    for attribute in attrs.fields(table):
        if attribute.name in skip:
            continue
        specs[attribute.name] = KeySpec(
            name=attribute.name,
            accepts=attribute.metadata.get("accepts") or describe_type(attribute.type),
            doc=attribute.metadata["doc"],
            default=attribute.metadata["default"],
            required=attribute.default is attrs.NOTHING,
        )
    return MappingProxyType(specs)


#: The keys of ``[connections.<name>]`` besides ``settings`` and ``consent_log``.
CONNECTION_KEYS = _specs(SourceTable, skip=("settings", "consent_log"))
#: The keys of ``[destinations.<name>]``.
DESTINATION_KEYS = _specs(DestinationTable)
#: The keys of ``[sync]``.
SYNC_KEYS = _specs(SyncTable)
#: The keys of ``[correlation]``.
CORRELATION_KEYS = _specs(CorrelationTable)
