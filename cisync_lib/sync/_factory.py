"""Live objects from a deployment config: Defender source, ServiceNow connection, correlator.

Also the CMDB writer's typed policies from a connection's effective settings.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs

from cisync_lib.cmdb import AppScope, CmdbConfig, GracePolicy, ScopePolicy
from cisync_lib.correlation import AliasMap, Correlator
from cisync_lib.defender import (
    CLOUDS,
    ClientCertificate,
    ClientSecret,
    DefenderSource,
    GraphConnection,
    GraphSource,
    HttpPolicy,
    LegacyConnection,
    LegacySource,
    LegacyToken,
    RateLimit,
    SnapshotSource,
)
from cisync_lib.errors import ConfigError
from cisync_lib.servicenow import (
    BasicAuth,
    OAuthClientCredentials,
    OAuthPassword,
    ServiceNowConnection,
)
from cisync_lib.settings import EffectiveSettings

from ._diagnose import SANDBOX_REFRESH
from ._sandbox_config import is_sandbox_config
from ._secrets import Secrets, env_var_name
from ._specs import CorrelationSpec, DestinationSpec, SourceSpec

__all__ = [
    "build_correlator",
    "build_servicenow",
    "build_source",
    "check_ca_bundles",
    "cmdb_config_for",
    "scope_policy_for",
]

_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----.*?-----END \1-----", re.DOTALL)


def _certificate(spec: SourceSpec, secrets: Secrets) -> ClientCertificate:
    path = spec.certificate_path
    assert path is not None  # checked when the config was loaded
    passphrase = secrets.get("connections", spec.name, "certificate_passphrase")
    if path.suffix.lower() in (".pfx", ".p12"):
        try:
            return ClientCertificate.from_pfx(str(path), passphrase=passphrase)
        except ConfigError as exc:  # name the config key (or the secret) to change
            name, problem = "certificate_path", exc.problem
            if exc.key == "passphrase":
                name = "certificate_passphrase"
                where = env_var_name(spec.name, name)
                problem += f"; set {where} or certificate_passphrase in the secrets file"
            raise ConfigError(key=f"connections.{spec.name}.{name}", problem=problem) from exc
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            key=f"connections.{spec.name}.certificate_path",
            problem=f"cannot read {path}: {exc.strerror}",
        ) from exc
    blocks = {m.group(1): m.group(0) for m in _PEM_BLOCK.finditer(text)}
    key = next((b for name, b in blocks.items() if "PRIVATE KEY" in name), None)
    key = key or secrets.get("connections", spec.name, "private_key")
    if key is None:
        raise ConfigError(
            key=f"connections.{spec.name}.certificate_path",
            problem=f"{path} holds no private key (and the secrets have no private_key)",
        )
    return ClientCertificate.from_pem(
        key,
        thumbprint=spec.thumbprint,
        certificate_pem=blocks.get("CERTIFICATE"),
        passphrase=passphrase,
    )


def _entra_credential(spec: SourceSpec, secrets: Secrets) -> ClientSecret | ClientCertificate:
    if spec.credential == "certificate":
        return _certificate(spec, secrets)
    why = f"credential = {spec.credential!r}"
    return ClientSecret(secret=secrets.require("connections", spec.name, "client_secret", why=why))


def _http(spec: SourceSpec, base: HttpPolicy) -> HttpPolicy:
    policy = base
    if spec.requests_per_second is not None:
        rps = spec.requests_per_second
        # a budget below one call per second is kept as whole calls over a longer window
        limit = RateLimit(calls=max(1, round(rps)), period=max(1.0, 1.0 / rps)) if rps else None
        policy = attrs.evolve(policy, rate_limit=limit)
    if spec.concurrency is not None:
        policy = attrs.evolve(policy, concurrency=spec.concurrency)
    return policy


def build_source(spec: SourceSpec, secrets: Secrets) -> DefenderSource:
    """The Defender source a connection's config describes.

    Raises:
        ConfigError: a secret it needs is in neither the environment nor the secrets file.
    """
    if spec.kind == "snapshot":
        assert spec.path is not None
        return SnapshotSource(spec.path)
    cloud = CLOUDS[spec.cloud]
    if spec.kind == "legacy":
        assert spec.url is not None
        credential: Any
        if spec.credential == "token":
            token = secrets.require("connections", spec.name, "api_token", why="a legacy token")
            credential = LegacyToken(key=token)
        else:
            credential = _entra_credential(spec, secrets)
        legacy = LegacyConnection(
            spec.url,
            credential=credential,
            tenant_id=spec.tenant_id,
            client_id=spec.client_id,
            cloud=cloud,
            authority_host=spec.authority_host,
            verify=spec.verify,
            proxies=dict(spec.proxies),
        )
        # the connection's default policy (the legacy API's documented budget), as configured
        return LegacySource(attrs.evolve(legacy, http=_http(spec, legacy.http)))
    return GraphSource(
        GraphConnection(
            spec.tenant_id or "",
            spec.client_id or "",
            credential=_entra_credential(spec, secrets),
            cloud=cloud,
            authority_host=spec.authority_host,
            graph_url=spec.graph_url,
            graph_scope=spec.graph_scope,
            verify=spec.verify,
            proxies=dict(spec.proxies),
            http=_http(spec, HttpPolicy()),
        )
    )


def check_ca_bundles(
    config_file: Path, source: SourceSpec | None, destination: DestinationSpec | None
) -> None:
    """Refuse a ``ca_bundle`` that names no readable file, before anything connects.

    Args:
        config_file: the deployment config the specs come from (named in the error).
        source: a source connection's spec, or ``None``.
        destination: a destination's spec, or ``None``.

    Raises:
        ConfigError: naming the file, the key and, for a sandbox config, how to refresh it.
    """
    sandbox = is_sandbox_config(config_file)
    for section, spec in (("connections", source), ("destinations", destination)):
        if spec is None or not isinstance(spec.verify, str):
            continue
        if os.path.isfile(spec.verify) and os.access(spec.verify, os.R_OK):
            continue
        problem = f"CA file {spec.verify} does not exist or is not readable"
        if sandbox:
            problem += "; " + SANDBOX_REFRESH.format(config=config_file)
        raise ConfigError(
            file=str(config_file), key=f"{section}.{spec.name}.ca_bundle", problem=problem
        )


def build_servicenow(spec: DestinationSpec, secrets: Secrets) -> ServiceNowConnection:
    """The ServiceNow connection a destination's config describes.

    Raises:
        ConfigError: a secret it needs is in neither the environment nor the secrets file.
    """
    auth: BasicAuth | OAuthClientCredentials | OAuthPassword

    def secret(key: str) -> str:
        return secrets.require("destinations", spec.name, key, why=f"auth = {spec.auth!r}")

    if spec.auth == "basic":
        auth = BasicAuth(username=spec.username or "", password=secret("password"))
    elif spec.auth == "oauth_client_credentials":
        auth = OAuthClientCredentials(
            client_id=spec.client_id or "", client_secret=secret("client_secret")
        )
    else:
        auth = OAuthPassword(
            client_id=spec.client_id or "",
            client_secret=secret("client_secret"),
            username=spec.username or "",
            password=secret("password"),
        )
    return ServiceNowConnection(
        spec.instance_url,
        auth=auth,
        verify=spec.verify,
        proxies=dict(spec.proxies) or None,
        page_size=spec.page_size,
        sessions=spec.sessions,
    )


def build_correlator(spec: CorrelationSpec) -> Correlator:
    """The correlator a correlation section describes (alias map loaded).

    :meth:`~cisync_lib.sync.DeploymentConfig.correlator` checks the chain's names first,
    naming the key.

    Raises:
        AliasMapError: the alias map is invalid.
        UnknownStrategyError: a chain name is not registered (any more).
    """
    alias_map = AliasMap.load(spec.alias_map) if spec.alias_map is not None else None
    return Correlator(config=spec.config, alias_map=alias_map)


def cmdb_config_for(base: CmdbConfig, effective: EffectiveSettings) -> CmdbConfig:
    """``base`` with the grace period, guard limits and heartbeat of the effective settings.

    Each value is read through a typed attribute of :class:`EffectiveSettings`, so
    a misspelt setting is a type error, never a silent default.
    """
    return attrs.evolve(
        base,
        grace=GracePolicy(runs=effective.grace_runs, days=float(effective.grace_days)),
        guard=attrs.evolve(
            base.guard,
            max_retire_percent=float(effective.max_retire_percent),
            max_unlink_percent=float(effective.max_unlink_percent),
        ),
        heartbeat=timedelta(hours=effective.heartbeat_hours),
    )


def scope_policy_for(effective: EffectiveSettings) -> ScopePolicy:
    """The apps and links a job may sync: risk score, app scope and user sync of the settings."""
    return ScopePolicy(
        max_risk_score=effective.max_risk_score,
        app_scope=AppScope(effective.app_scope),
        allow_user_sync=effective.allow_user_sync,
    )
