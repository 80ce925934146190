"""The keys of the deployment config, declared once: validation and the reference page read them."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from cisync_lib.cmdb import CmdbConfig
from cisync_lib.errors import ConfigError
from cisync_lib.settings import ConfigSchema, check_kind
from cisync_lib.settings._schema import SOURCE_KINDS as _SOURCE_KINDS
from cisync_lib.settings._spec import describe_found

from ._checks import (
    KeySpec,
    boolean,
    choice,
    https_url,
    non_empty,
    proxies,
    refuse_secret,
    string_list,
    table_check,
)
from ._secrets import SECRET_KEYS

__all__ = [
    "CONNECTION_KEYS",
    "CORRELATION_KEYS",
    "DEPLOYMENT_SCHEMA",
    "DESTINATION_KEYS",
    "SOURCE_KINDS",
    "SYNC_KEYS",
]

#: ``kind`` values of a source connection (``"mdca"``, deprecated, still means ``"graph"``).
SOURCE_KINDS = _SOURCE_KINDS


def _positive_int(key: str, value: object, /) -> None:
    if type(value) is not int or value < 1:
        raise ConfigError(
            key=key, problem=f"expected a positive integer, got {describe_found(value)}"
        )


def _non_negative(key: str, value: object, /) -> None:
    if type(value) not in (int, float) or value < 0:  # type: ignore[operator]
        raise ConfigError(key=key, problem=f"expected a number >= 0, got {describe_found(value)}")


def _concurrency(key: str, value: object, /) -> None:
    if type(value) is not int or not 1 <= value <= 32:
        raise ConfigError(
            key=key, problem=f"expected an integer 1..32, got {describe_found(value)}"
        )


def _batch_size(key: str, value: object, /) -> None:
    if type(value) is not int or not 1 <= value <= 1000:
        raise ConfigError(
            key=key, problem=f"expected an integer 1..1000, got {describe_found(value)}"
        )


def _correlation_options(key: str, value: object, /) -> None:
    if not isinstance(value, dict):
        raise ConfigError(key=key, problem=f"expected a table, got {describe_found(value)}")


def _specs(*specs: KeySpec) -> Mapping[str, KeySpec]:
    return MappingProxyType({spec.name: spec for spec in specs})


_TLS = (
    KeySpec(
        name="ca_bundle",
        check=non_empty,
        doc="A PEM file of CA certificates to trust instead of the system's (relative paths "
        "are relative to the config file).",
    ),
    KeySpec(
        name="verify",
        check=boolean,
        default="true",
        doc="Verify TLS certificates. Turning it off is for throwaway test instances only.",
    ),
    KeySpec(
        name="proxies",
        check=proxies,
        doc='Proxy URLs by scheme, e.g. ``{ https = "http://proxy.example:8080" }``. '
        "Environment proxy variables are never read implicitly.",
    ),
)

CONNECTION_KEYS = _specs(
    KeySpec(
        name="kind",
        check=check_kind,
        default='"graph"',
        doc='Where Defender data comes from, named after the API read: ``"graph"`` (Microsoft '
        'Graph, recommended), ``"legacy"`` (the Defender for Cloud Apps REST API) or '
        '``"snapshot"`` (a saved snapshot file). ``"mdca"`` is a deprecated alias of '
        '``"graph"``: it still loads, with a warning naming the file and key.',
    ),
    KeySpec(
        name="tenant_id", check=non_empty, doc="The Entra tenant id (graph, legacy with Entra)."
    ),
    KeySpec(name="client_id", check=non_empty, doc="The Entra application (client) id."),
    KeySpec(
        name="cloud",
        check=choice("public", "us_gov", "us_gov_dod"),
        default='"public"',
        doc="The Microsoft cloud whose sign-in and Graph hosts to use.",
    ),
    KeySpec(
        name="authority_host",
        check=https_url,
        doc="Overrides the cloud's Entra sign-in host (``https://login.microsoftonline.com``).",
    ),
    KeySpec(name="graph_url", check=https_url, doc="Overrides the cloud's Microsoft Graph root."),
    KeySpec(name="graph_scope", check=non_empty, doc="Overrides the Graph ``.default`` scope."),
    KeySpec(
        name="credential",
        check=choice("secret", "certificate", "token"),
        default='"secret" (graph), "token" (legacy)',
        doc="How the source authenticates: a client secret, a certificate "
        "(``certificate_path``), or a legacy API token. The secret itself comes from the "
        "environment or the secrets file.",
    ),
    KeySpec(
        name="certificate_path",
        check=non_empty,
        doc="A PEM (private key and certificate) or PFX file for ``credential = "
        '"certificate"``; a passphrase goes in the secrets file.',
    ),
    KeySpec(name="thumbprint", check=non_empty, doc="The certificate's SHA-1 thumbprint (PEM)."),
    KeySpec(name="url", check=https_url, doc='The legacy API\'s base URL (``kind = "legacy"``).'),
    KeySpec(name="path", check=non_empty, doc='The snapshot file (``kind = "snapshot"``).'),
    KeySpec(name="streams", check=string_list, doc="Discovery stream ids or names to read."),
    KeySpec(
        name="requests_per_second",
        check=_non_negative,
        default="adaptive (graph), 0.5 (legacy)",
        doc="A fixed client-side request budget towards Defender. Unset, Graph requests adapt "
        "to the service (more in flight while answers are fast, fewer after a 429); set, the "
        "rate is pinned. The legacy API allows 30 per minute; 0 turns the budget off.",
    ),
    KeySpec(
        name="concurrency",
        check=_concurrency,
        default="16 (graph), 4 (legacy)",
        doc="Parallel requests when reading each app's users (1 to 32); for Graph, the most "
        "its adaptive limit may reach.",
    ),
    *_TLS,
)

DESTINATION_KEYS = _specs(
    KeySpec(
        name="instance_url",
        check=https_url,
        required=True,
        doc="The ServiceNow instance, e.g. ``https://contoso.service-now.com``.",
    ),
    KeySpec(
        name="environment",
        check=choice("test", "prod"),
        required=True,
        doc="The destination's tag: which settings (TEST or PROD) a job into it uses.",
    ),
    KeySpec(
        name="auth",
        check=choice("basic", "oauth_client_credentials", "oauth_password"),
        default='"basic"',
        doc="How to sign in: basic (``username`` + password secret), OAuth client "
        "credentials (``client_id`` + client secret) or OAuth password grant (both).",
    ),
    KeySpec(name="username", check=non_empty, doc="The integration user (basic, oauth_password)."),
    KeySpec(name="client_id", check=non_empty, doc="The OAuth application's client id."),
    KeySpec(
        name="page_size",
        check=_positive_int,
        doc="Rows per read page (default: 1000 for reads of many fields, 10,000 for narrow "
        "reads such as user links and ``sys_user``).",
    ),
    KeySpec(
        name="sessions",
        check=_concurrency,
        default="4",
        doc="ServiceNow sessions used at once, each with its own cookie (so the instance "
        "runs their requests in parallel); also the most requests in flight. 1 sends one "
        "request at a time. Keep it at or below the instance's API semaphore (4 per node).",
    ),
    KeySpec(
        name="batch_size",
        check=_batch_size,
        default=str(CmdbConfig().batch_size),
        doc="Table API writes per Batch API call (1..1000).",
    ),
    *_TLS,
    KeySpec(
        name="unsafe_allow_unverified_tls_in_prod",
        check=boolean,
        default="false",
        doc="``verify = false`` is refused for a PROD destination unless this is ``true``. "
        "Do not: set ``ca_bundle`` to the CA's PEM file instead. When set, every report of "
        "the destination carries a warning.",
    ),
)

SYNC_KEYS = _specs(
    KeySpec(
        name="connection",
        check=non_empty,
        doc="The source connection jobs use when the command line names none "
        "(required when the config has more than one).",
    ),
    KeySpec(
        name="write_path",
        check=choice("table", "ire"),
        default='"table"',
        doc='How Business Applications are written: ``"table"`` (Table API, no instance '
        'set-up) or ``"ire"`` (Identification and Reconciliation Engine; needs the data '
        "source and an identification rule registered).",
    ),
    KeySpec(
        name="state_dir",
        check=non_empty,
        default='".cisync/state"',
        doc="Where a job keeps its run state (grace-period bookkeeping) and reports, one "
        "sub-folder per connection and destination.",
    ),
    KeySpec(
        name="lock_wait",
        check=_non_negative,
        default="10",
        doc="Seconds a writing run waits for another run on the same destination and state "
        "folder to finish before it refuses (exit code 3). Only one run writes at a time.",
    ),
    KeySpec(
        name="keep_reports",
        check=_positive_int,
        default="30",
        doc="How many run reports each state folder keeps under ``reports/``; older ones "
        "are deleted after each run (``last.json`` is a small pointer to the latest).",
    ),
    KeySpec(
        name="secrets_file",
        check=non_empty,
        doc="A TOML file with the secrets (``[connections.<name>]`` / ``[destinations.<name>]``"
        "). Keep it out of version control and readable only by the sync's user.",
    ),
    KeySpec(
        name="relationships",
        check=string_list,
        default="every available one",
        doc='The relationships jobs select: ``"Cloud App"`` and ``"User uses Cloud App"``. '
        "A relationship the environment's settings do not make available is refused.",
    ),
)

CORRELATION_KEYS = _specs(
    KeySpec(
        name="chain",
        check=string_list,
        default="the default chain",
        doc="The ordered strategies by name (``alias_map``, ``email_upn``, ``domain_alias``, "
        "``downlevel``, ``plus_tag_strip``, ``proxy_address``, ``local_part``, plugin names, "
        'or ``"package.module:factory"``).',
    ),
    KeySpec(
        name="alias_map",
        check=non_empty,
        doc="An alias-map file (CSV or YAML): explicit decisions, e.g. the filled-in "
        "unmatched report.",
    ),
    KeySpec(
        name="options",
        check=_correlation_options,
        doc="Correlator rules (``CorrelatorConfig`` attributes): ``domain_aliases``, "
        "``netbios_domains``, ``plus_tag_domains``, ``inactive_policy``, ...",
    ),
)


def _connection_keys() -> dict[str, object]:
    keys: dict[str, object] = {name: spec.check for name, spec in CONNECTION_KEYS.items()}
    keys.update(dict.fromkeys(SECRET_KEYS["connections"], refuse_secret))
    return keys


#: What the deployment config holds beyond the connection settings (the settings loader's schema).
DEPLOYMENT_SCHEMA = ConfigSchema(
    connection_keys=_connection_keys(),  # type: ignore[arg-type]  # checks are ValueChecks
    tables={
        "destinations": table_check(
            DESTINATION_KEYS, section="destinations", nested=True, secrets_of="destinations"
        ),
        "sync": table_check(SYNC_KEYS, section="sync", nested=False),
        "correlation": table_check(CORRELATION_KEYS, section="correlation", nested=False),
    },
)
