"""The parts of a deployment config as frozen specs, built from its typed tables.

The strict converter has already checked each key's type and allowed values
(:class:`~cisync_lib.sync._keys.DeploymentDocument`); this module adds the
checks that involve several keys (a Graph connection needs a tenant) and
resolves relative paths against the config file's folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs
from attrs import field, frozen

from cisync_lib.correlation import Correlator, CorrelatorConfig
from cisync_lib.errors import ConfigError
from cisync_lib.settings import Environment
from cisync_lib.settings._lines import key_lines, line_of
from cisync_lib.settings._schema import SourceKind

from ._keys import AuthKind, CorrelationTable, DestinationTable, SourceTable

__all__ = [
    "Checker",
    "CorrelationSpec",
    "DestinationSpec",
    "SourceSpec",
    "check_chain",
    "correlation_spec",
    "destination_spec",
    "resolve_path",
    "source_spec",
]


#: the entry-point group plugin strategies register in (cisync_lib.correlation reads it)
STRATEGY_ENTRY_POINTS = "cisync_lib.correlation"


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


def resolve_path(base: Path, value: str) -> Path:
    """``value`` as a path, relative paths taken relative to ``base`` (the config's folder)."""
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else base / path


def _verify(base: Path, table: SourceTable | DestinationTable) -> bool | str:
    if table.ca_bundle is not None:
        return str(resolve_path(base, table.ca_bundle))
    return table.verify


@frozen(kw_only=True)
class Checker:
    """Raises the errors of checks across keys, naming the file and the key's line."""

    file: Path
    text: str

    def fail(self, key: str, problem: str, allowed: str | None = None) -> ConfigError:
        """The error for ``key``, at its line (or its nearest table's)."""
        line = line_of(key_lines(self.text), key)
        return ConfigError(
            file=str(self.file), line=line, key=key, problem=problem, allowed=allowed
        )

    def require(self, key: str, value: object, name: str, why: str) -> None:
        """Refuse a missing (``None``) ``value`` of ``key.name``."""
        if value is None:
            raise self.fail(f"{key}.{name}", f"is required {why}")


def source_spec(check: Checker, name: str, table: SourceTable) -> SourceSpec:
    """The source connection ``[connections.<name>]`` describes, after its checks across keys."""
    base, key, kind = check.file.parent, f"connections.{name}", table.kind
    credential = table.credential or ("token" if kind == "legacy" else "secret")
    if kind == "graph":
        check.require(key, table.tenant_id, "tenant_id", 'for kind = "graph"')
        check.require(key, table.client_id, "client_id", 'for kind = "graph"')
    elif kind == "legacy":
        check.require(key, table.url, "url", 'for kind = "legacy"')
        if credential != "token":
            check.require(key, table.tenant_id, "tenant_id", "for an Entra credential")
            check.require(key, table.client_id, "client_id", "for an Entra credential")
    else:
        check.require(key, table.path, "path", 'for kind = "snapshot"')
    if credential == "certificate" and kind != "snapshot":
        check.require(
            key, table.certificate_path, "certificate_path", 'for credential = "certificate"'
        )
    if credential == "token" and kind == "graph":
        raise check.fail(
            f"{key}.credential",
            '"token" is only for kind = "legacy"',
            '"secret" | "certificate"',
        )
    return SourceSpec(
        name=name,
        kind=kind,
        tenant_id=table.tenant_id,
        client_id=table.client_id,
        cloud=table.cloud,
        authority_host=table.authority_host,
        graph_url=table.graph_url,
        graph_scope=table.graph_scope,
        credential=credential,
        certificate_path=resolve_path(base, table.certificate_path)
        if table.certificate_path is not None
        else None,
        thumbprint=table.thumbprint,
        url=table.url,
        path=resolve_path(base, table.path) if table.path is not None else None,
        streams=table.streams,
        requests_per_second=table.requests_per_second,
        concurrency=table.concurrency,
        verify=_verify(base, table),
        proxies={str(scheme): str(url) for scheme, url in table.proxies.items()},
    )


def destination_spec(check: Checker, name: str, table: DestinationTable) -> DestinationSpec:
    """The destination ``[destinations.<name>]`` describes, after its checks across keys."""
    key, auth = f"destinations.{name}", table.auth
    if auth in ("basic", "oauth_password"):
        check.require(key, table.username, "username", f'for auth = "{auth}"')
    if auth.startswith("oauth"):
        check.require(key, table.client_id, "client_id", f'for auth = "{auth}"')
    verify = _verify(check.file.parent, table)
    if (
        verify is False
        and table.environment is Environment.PROD
        and not table.unsafe_allow_unverified_tls_in_prod
    ):
        raise check.fail(
            f"{key}.verify",
            "verify = false is refused for a PROD destination (anyone on the network "
            "path could read and change what the sync sends); set ca_bundle to the PEM file "
            "of the CA that signed the instance's certificate, or, knowingly, "
            "unsafe_allow_unverified_tls_in_prod = true",
        )
    return DestinationSpec(
        name=name,
        instance_url=table.instance_url,
        environment=table.environment,
        auth=auth,
        username=table.username,
        client_id=table.client_id,
        page_size=table.page_size,
        sessions=table.sessions,
        batch_size=table.batch_size,
        verify=verify,
        proxies={str(scheme): str(url) for scheme, url in table.proxies.items()},
    )


def _unknown(check: Checker, index: int, name: str, known: tuple[str, ...]) -> ConfigError:
    problem = f"unknown correlation strategy {name!r}"
    if ":" in name:  # "package.module:factory", accepted by earlier versions
        problem += (
            '; import paths ("package.module:factory") are no longer read: register the '
            f"factory as an entry point in the group {STRATEGY_ENTRY_POINTS!r} and use its name"
        )
    else:
        problem += (
            "; a custom strategy is named here once its package registers it as an entry "
            f"point in the group {STRATEGY_ENTRY_POINTS!r} and is installed"
        )
    return check.fail(f"correlation.chain[{index}]", problem, allowed=", ".join(known))


def _refuse_import_paths(check: Checker, chain: tuple[str, ...]) -> None:
    """Refuse a ``"package.module:factory"`` item: wrong wherever the config is used.

    (No entry-point name holds a ``:``, the separator of ``entry_points.txt``.)
    """
    for index, name in enumerate(chain):
        if ":" in name:
            raise _unknown(check, index, name, Correlator.strategy_names())


def check_chain(check: Checker, chain: tuple[str, ...] | None) -> None:
    """Refuse a chain name no strategy is registered under, at its line, listing the known.

    Which plugins are installed is a property of the machine, not of the file: this runs
    when a correlator is built from the config, so commands that do not correlate
    (``cisync settings``, ``cisync init``) work where a plugin it names is not installed.

    Raises:
        ConfigError: naming the file, the line, the key (``correlation.chain[2]``), the
            known names and how a custom strategy is registered.
    """
    if not chain:
        return
    known = Correlator.strategy_names()
    for index, name in enumerate(chain):
        if name not in known:
            raise _unknown(check, index, name, known)


def correlation_spec(check: Checker, table: CorrelationTable) -> CorrelationSpec:
    """The correlation ``[correlation]`` describes: the chain goes into the rules.

    Raises:
        ConfigError: a chain item is an import path (``"package.module:factory"``); the
            names are checked when a correlator is built (:func:`check_chain`).
    """
    config = table.options
    if config.strategies is not None:
        raise check.fail("correlation.options.strategies", "use correlation.chain")
    if table.chain is not None:
        _refuse_import_paths(check, table.chain)
        config = attrs.evolve(config, strategies=table.chain)
    alias = resolve_path(check.file.parent, table.alias_map) if table.alias_map else None
    return CorrelationSpec(config=config, alias_map=alias)
