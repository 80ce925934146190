"""A deployment config (and secrets file) pointing at running sandboxes: demo, examples, tests.

The sandbox's URLs, ports and CA change every time it starts, while the
settings and the consent log in the config must survive: an existing config
is updated in place (tomlkit keeps everything else, comments included).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit

from cisync_lib._atomic import write_atomic
from cisync_lib.errors import ConfigError

__all__ = ["is_sandbox_config", "write_sandbox_config"]

_HEADER = """\
# cisync deployment config for local sandboxes (written by cisync; the URLs and
# the CA are refreshed whenever the sandbox starts again; settings and the
# consent log are kept). Secrets are in the secrets file named below.
"""


def is_sandbox_config(path: str | os.PathLike[str]) -> bool:
    """Whether the config at ``path`` was written for local sandboxes (by its header)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read(len(_HEADER)) == _HEADER
    except OSError:
        return False


def _info(sandbox: Any) -> Mapping[str, str]:
    if isinstance(sandbox, Mapping):
        return sandbox
    info: Mapping[str, str] = sandbox.connection_info()
    return info


def _need(info: Mapping[str, str], key: str) -> str:
    try:
        return info[key]
    except KeyError:
        raise ConfigError(
            key=key,
            problem="missing from the sandbox's connection details (is its Defender part on?)",
        ) from None


def _authority_host(info: Mapping[str, str]) -> str:
    authority = _need(info, "authority").rstrip("/")
    tenant = _need(info, "tenant_id")
    if authority.endswith("/" + tenant):
        return authority[: -len(tenant) - 1]
    return authority


def _source(info: Mapping[str, str]) -> dict[str, Any]:
    return {
        "kind": "graph",
        "tenant_id": _need(info, "tenant_id"),
        "client_id": _need(info, "client_id"),
        "authority_host": _authority_host(info),
        "graph_url": _need(info, "graph_url"),
        "graph_scope": info.get("graph_scope", "https://graph.microsoft.com/.default"),
        "credential": "secret",
        "ca_bundle": _need(info, "ca_file"),
        # a local sandbox needs no client-side budget
        "requests_per_second": 0,
        "concurrency": 8,
    }


def _destination(info: Mapping[str, str], env: str) -> dict[str, Any]:
    return {
        "instance_url": _need(info, "servicenow_url"),
        "environment": env,
        "auth": "basic",
        "username": _need(info, "servicenow_username"),
        "ca_bundle": _need(info, "ca_file"),
    }


def _update(table: Any, values: Mapping[str, Any]) -> None:
    for key, value in values.items():
        table[key] = value


def write_sandbox_config(
    folder: str | os.PathLike[str],
    test: Any,
    prod: Any = None,
    *,
    connection: str = "sandbox",
    file_name: str = "cisync.toml",
) -> Path:
    """Write (or refresh) a deployment config and its secrets file for running sandboxes.

    Args:
        folder: where ``cisync.toml`` and ``cisync-secrets.toml`` go (created if needed).
        test: the sandbox (or its ``connection_info()``) whose Defender tenant is the
            source and whose ServiceNow instance is the TEST destination.
        prod: another sandbox whose ServiceNow instance is the PROD destination.
        connection: the source connection's name.
        file_name: the config's file name.

    Returns:
        The config's path. An existing config keeps its settings, consent log,
        correlation section and comments; only the sandbox keys are refreshed.
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    path = root / file_name
    test_info = _info(test)
    prod_info = _info(prod) if prod is not None else None
    if path.exists():
        document = tomlkit.parse(path.read_text(encoding="utf-8"))
    else:
        document = tomlkit.parse(_HEADER)
        document["sync"] = {
            "connection": connection,
            "state_dir": "state",
            "secrets_file": "cisync-secrets.toml",
        }
        document["connections"] = tomlkit.table(is_super_table=True)
        document["destinations"] = tomlkit.table(is_super_table=True)
        correlation = tomlkit.table()
        correlation.add(
            tomlkit.comment('alias_map = "aliases.csv"   # the filled-in unmatched report')
        )
        correlation.add(tomlkit.comment('chain = ["alias_map", "email_upn", "downlevel"]'))
        document["correlation"] = correlation
    connections = document["connections"]
    if connection not in connections:
        connections[connection] = tomlkit.table()
    _update(connections[connection], _source(test_info))
    destinations = document["destinations"]
    for env, info in (("test", test_info), ("prod", prod_info)):
        if info is None:
            continue
        if env not in destinations:
            destinations[env] = tomlkit.table()
        _update(destinations[env], _destination(info, env))
    write_atomic(path, document.as_string())
    secrets = {
        "connections": {connection: {"client_secret": _need(test_info, "client_secret")}},
        "destinations": {
            env: {"password": _need(info, "servicenow_password")}
            for env, info in (("test", test_info), ("prod", prod_info))
            if info is not None
        },
    }
    write_atomic(root / "cisync-secrets.toml", tomlkit.dumps(secrets), mode=0o600)
    return path
