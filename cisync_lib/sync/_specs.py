"""The parts of a deployment config as frozen specs, built from the validated plain values.

The settings loader has already checked each key's type and allowed values
(:data:`~cisync_lib.sync._keys.DEPLOYMENT_SCHEMA`); this module adds the
checks that involve several keys (a Graph connection needs a tenant) and
resolves relative paths against the config file's folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import attrs
from attrs import field, frozen

from cisync_lib.correlation import CorrelatorConfig
from cisync_lib.errors import ConfigError
from cisync_lib.settings import Environment
from cisync_lib.settings._schema import DEPRECATED_KINDS

__all__ = [
    "CorrelationSpec",
    "DestinationSpec",
    "SourceSpec",
    "correlation_spec",
    "destination_spec",
    "resolve_path",
    "source_spec",
]

SourceKind = Literal["graph", "legacy", "snapshot"]
AuthKind = Literal["basic", "oauth_client_credentials", "oauth_password"]


def _frozen(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


@frozen(kw_only=True)
class SourceSpec:
    """A Defender source connection as configured (``[connections.<name>]``), without secrets.

    Attributes:
        name: the connection's name.
        kind: ``graph``, ``legacy`` or ``snapshot``.
        tenant_id: the Entra tenant.
        client_id: the Entra application (client) id.
        cloud: ``public``, ``us_gov`` or ``us_gov_dod``.
        authority_host: overrides the cloud's sign-in host.
        graph_url: overrides the cloud's Graph root.
        graph_scope: overrides the cloud's Graph scope.
        credential: ``secret``, ``certificate`` or ``token``.
        certificate_path: the certificate credential's PEM or PFX file.
        thumbprint: the certificate's SHA-1 thumbprint (PEM).
        url: the legacy API base URL.
        path: the snapshot file.
        streams: the stream ids or names to read (``None``: all).
        requests_per_second: the client-side budget (``None``: the source's default, 0: off).
        concurrency: parallel per-app reads (``None``: the source's default).
        verify: ``True``, ``False`` or a CA bundle path.
        proxies: proxy URLs by scheme.
    """

    name: str
    kind: SourceKind = "graph"
    tenant_id: str | None = None
    client_id: str | None = None
    cloud: str = "public"
    authority_host: str | None = None
    graph_url: str | None = None
    graph_scope: str | None = None
    credential: str = "secret"
    certificate_path: Path | None = None
    thumbprint: str | None = None
    url: str | None = None
    path: Path | None = None
    streams: tuple[str, ...] | None = None
    requests_per_second: float | None = None
    concurrency: int | None = None
    verify: bool | str = True
    proxies: Mapping[str, str] = field(factory=dict, converter=_frozen)


@frozen(kw_only=True)
class DestinationSpec:
    """A ServiceNow destination as configured (``[destinations.<name>]``), without secrets.

    Attributes:
        name: the destination's name.
        instance_url: the instance's URL.
        environment: its tag, TEST or PROD.
        auth: ``basic``, ``oauth_client_credentials`` or ``oauth_password``.
        username: the integration user (basic, oauth_password).
        client_id: the OAuth client id (oauth kinds).
        page_size: rows per read page (``None``: the connection's defaults).
        sessions: ServiceNow sessions used at once.
        batch_size: Table API writes per Batch API call (``None``: the CMDB default).
        verify: ``True``, ``False`` or a CA bundle path.
        proxies: proxy URLs by scheme.
    """

    name: str
    instance_url: str
    environment: Environment
    auth: AuthKind = "basic"
    username: str | None = None
    client_id: str | None = None
    page_size: int | None = None
    sessions: int = 4
    batch_size: int | None = None
    verify: bool | str = True
    proxies: Mapping[str, str] = field(factory=dict, converter=_frozen)


@frozen(kw_only=True)
class CorrelationSpec:
    """The correlation section: chain, alias map and rules.

    Attributes:
        config: the correlator's rules; ``config.strategies`` is the chain (``None``: default).
        alias_map: the alias-map file, if any.
    """

    config: CorrelatorConfig = field(factory=CorrelatorConfig)
    alias_map: Path | None = None


def resolve_path(base: Path, value: object) -> Path:
    path = Path(os.path.expanduser(str(value)))
    return path if path.is_absolute() else base / path


def _verify(base: Path, table: Mapping[str, Any]) -> bool | str:
    if "ca_bundle" in table:
        return str(resolve_path(base, table["ca_bundle"]))
    return bool(table.get("verify", True))


def _require(file: Path, key: str, table: Mapping[str, Any], name: str, why: str) -> None:
    if not table.get(name):
        raise ConfigError(file=str(file), key=f"{key}.{name}", problem=f"is required {why}")


def source_spec(file: Path, name: str, raw: Mapping[str, Any]) -> SourceSpec:
    base, key = file.parent, f"connections.{name}"
    kind = raw.get("kind", "graph")
    kind = DEPRECATED_KINDS.get(kind, kind)  # the loader has warned about the old spelling
    default_credential = "token" if kind == "legacy" else "secret"
    credential = raw.get("credential", default_credential)
    if kind == "graph":
        for needed in ("tenant_id", "client_id"):
            _require(file, key, raw, needed, 'for kind = "graph"')
    elif kind == "legacy":
        _require(file, key, raw, "url", 'for kind = "legacy"')
        if credential != "token":
            for needed in ("tenant_id", "client_id"):
                _require(file, key, raw, needed, "for an Entra credential")
    else:
        _require(file, key, raw, "path", 'for kind = "snapshot"')
    if credential == "certificate" and kind != "snapshot":
        _require(file, key, raw, "certificate_path", 'for credential = "certificate"')
    if credential == "token" and kind == "graph":
        raise ConfigError(
            file=str(file),
            key=f"{key}.credential",
            problem='"token" is only for kind = "legacy"',
            allowed='"secret" | "certificate"',
        )
    return SourceSpec(
        name=name,
        kind=kind,
        tenant_id=raw.get("tenant_id"),
        client_id=raw.get("client_id"),
        cloud=raw.get("cloud", "public"),
        authority_host=raw.get("authority_host"),
        graph_url=raw.get("graph_url"),
        graph_scope=raw.get("graph_scope"),
        credential=credential,
        certificate_path=resolve_path(base, raw["certificate_path"])
        if "certificate_path" in raw
        else None,
        thumbprint=raw.get("thumbprint"),
        url=raw.get("url"),
        path=resolve_path(base, raw["path"]) if "path" in raw else None,
        streams=tuple(raw["streams"]) if "streams" in raw else None,
        requests_per_second=raw.get("requests_per_second"),
        concurrency=raw.get("concurrency"),
        verify=_verify(base, raw),
        proxies=raw.get("proxies", {}),
    )


def destination_spec(file: Path, name: str, raw: Mapping[str, Any]) -> DestinationSpec:
    key = f"destinations.{name}"
    for needed in ("instance_url", "environment"):
        _require(file, key, raw, needed, "for every destination")
    auth = raw.get("auth", "basic")
    if auth in ("basic", "oauth_password"):
        _require(file, key, raw, "username", f'for auth = "{auth}"')
    if auth.startswith("oauth"):
        _require(file, key, raw, "client_id", f'for auth = "{auth}"')
    verify = _verify(file.parent, raw)
    if (
        verify is False
        and raw["environment"] == "prod"
        and raw.get("unsafe_allow_unverified_tls_in_prod") is not True
    ):
        raise ConfigError(
            file=str(file),
            key=f"{key}.verify",
            problem="verify = false is refused for a PROD destination (anyone on the network "
            "path could read and change what the sync sends); set ca_bundle to the PEM file "
            "of the CA that signed the instance's certificate, or, knowingly, "
            "unsafe_allow_unverified_tls_in_prod = true",
        )
    return DestinationSpec(
        name=name,
        instance_url=raw["instance_url"],
        environment=Environment(raw["environment"]),
        auth=auth,
        username=raw.get("username"),
        client_id=raw.get("client_id"),
        page_size=raw.get("page_size"),
        sessions=raw.get("sessions", 4),
        batch_size=raw.get("batch_size"),
        verify=verify,
        proxies=raw.get("proxies", {}),
    )


def correlation_spec(file: Path, raw: Mapping[str, Any]) -> CorrelationSpec:
    options = dict(raw.get("options", {}))
    if "strategies" in options:
        raise ConfigError(
            file=str(file), key="correlation.options.strategies", problem="use correlation.chain"
        )
    if "chain" in raw:
        options["strategies"] = tuple(raw["chain"])
    try:
        config = CorrelatorConfig.from_mapping(options, file=str(file))
    except ConfigError as exc:
        name = "options"  # a value of the wrong shape names no key of its own
        if exc.key:
            name = "chain" if exc.key == "strategies" else f"options.{exc.key}"
        raise attrs.evolve(exc, key=f"correlation.{name}", message="") from None
    alias = resolve_path(file.parent, raw["alias_map"]) if "alias_map" in raw else None
    return CorrelationSpec(config=config, alias_map=alias)
