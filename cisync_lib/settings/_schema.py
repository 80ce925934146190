"""What a settings file may contain, and turning its plain values into the settings model.

The file is also the deployment config of a sync (which adds keys to each
``[connections.<name>]`` table and tables of its own at the top level), so
the allowed keys are not fixed here: a :class:`ConfigSchema` lists the extra
keys and tables another layer accepts, each with a check. Anything neither
this module nor the schema knows is an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Protocol

import attrs
from attrs import field, frozen

from cisync_lib.errors import ConfigError

from ._connection import ConnectionSettings
from ._consent import ConsentRecord
from ._lines import Part, dotted
from ._registry import SETTINGS, Environment, describe_found, known_setting
from ._values import Override

__all__ = [
    "DEPRECATED_KINDS",
    "SOURCE_KINDS",
    "ConfigSchema",
    "ParsedSettings",
    "ValueCheck",
    "check_kind",
    "parse_document",
]

_RESERVED_CONNECTION_KEYS = ("settings", "consent_log")
_OVERRIDE_KEYS = ("override", "value")
_LOG_KEYS = ("by", "at", "environment", "changes", "statement")
_ENVIRONMENTS = " | ".join(env.value for env in Environment)


class ValueCheck(Protocol):
    """Checks the value of one extra key or table a :class:`ConfigSchema` allows."""

    def __call__(self, key: str, value: object, /) -> None:
        """Raise :class:`~cisync_lib.ConfigError` (key, problem, allowed) if unacceptable.

        Args:
            key: the dotted key of ``value`` (extend it for nested keys:
                ``f"{key}.url"``); the loader adds the file and line.
            value: the plain Python value (dicts, lists, str, int, ...).
        """


#: ``kind`` values of a source connection, named after the API the source reads.
SOURCE_KINDS = ("graph", "legacy", "snapshot")
#: Old spellings still accepted, with a deprecation warning, and what they mean now.
DEPRECATED_KINDS: Mapping[str, str] = MappingProxyType({"mdca": "graph"})


def check_kind(key: str, value: object, /) -> None:
    """Accept the connection's ``kind``: ``"graph"``, ``"legacy"`` or ``"snapshot"``.

    ``"mdca"`` is a deprecated alias of ``"graph"``: it is accepted here, and the
    loader warns about it (naming the file, line and key).
    """
    if value not in SOURCE_KINDS and value not in DEPRECATED_KINDS:
        raise ConfigError(
            key=key,
            problem=f"unknown kind {describe_found(value)}",
            allowed=" | ".join(f'"{kind}"' for kind in SOURCE_KINDS),
        )


def _frozen_checks(checks: Mapping[str, ValueCheck]) -> Mapping[str, ValueCheck]:
    return MappingProxyType(dict(checks))


@frozen(kw_only=True)
class ConfigSchema:
    """The keys a settings file accepts beyond the connection settings themselves.

    Attributes:
        connection_keys: extra keys of each ``[connections.<name>]`` table,
            with their checks (``kind`` by default).
        tables: top-level keys besides ``connections``, with their checks.
    """

    connection_keys: Mapping[str, ValueCheck] = field(
        factory=lambda: {"kind": check_kind}, converter=_frozen_checks
    )
    tables: Mapping[str, ValueCheck] = field(factory=dict, converter=_frozen_checks)

    def extend(
        self,
        *,
        connection_keys: Mapping[str, ValueCheck] | None = None,
        tables: Mapping[str, ValueCheck] | None = None,
    ) -> ConfigSchema:
        """Return a schema that also accepts the given keys and tables.

        Raises:
            ConfigError: a name is already taken (by this schema or by the settings).
        """
        new_keys, new_tables = dict(connection_keys or {}), dict(tables or {})
        taken_keys = {*self.connection_keys, *_RESERVED_CONNECTION_KEYS}
        taken_tables = {*self.tables, "connections"}
        clash = sorted((taken_keys & new_keys.keys()) | (taken_tables & new_tables.keys()))
        if clash:
            raise ConfigError(key=", ".join(clash), problem="already defined in the schema")
        return ConfigSchema(
            connection_keys={**self.connection_keys, **new_keys},
            tables={**self.tables, **new_tables},
        )


@frozen(kw_only=True)
class ParsedSettings:
    """The settings model read from a file's plain values."""

    connections: Mapping[str, ConnectionSettings]
    consent_logs: Mapping[str, tuple[ConsentRecord, ...]]


def _fail(path: tuple[Part, ...], problem: str, allowed: str | None = None) -> ConfigError:
    return ConfigError(key=dotted(path), problem=problem, allowed=allowed)


def _table(path: tuple[Part, ...], value: object) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise _fail(path, f"expected a table, got {describe_found(value)}")
    return value


def _unknown(path: tuple[Part, ...], allowed: Iterable[str]) -> ConfigError:
    return _fail(path, "unknown key", ", ".join(allowed))


def _override(path: tuple[Part, ...], name: str, raw: object) -> Override:
    if not isinstance(raw, dict):
        raise _fail(
            path,
            f"expected {{ override = true | false, value = ... }}, got {describe_found(raw)}",
            SETTINGS[name].allowed,
        )
    for key in raw:
        if key not in _OVERRIDE_KEYS:
            raise _unknown((*path, key), _OVERRIDE_KEYS)
    for key in _OVERRIDE_KEYS:
        if key not in raw:
            raise _fail(path, f"missing {key!r}", "{ override = true | false, value = ... }")
    if not isinstance(raw["override"], bool):
        found = describe_found(raw["override"])
        raise _fail((*path, "override"), f"expected boolean, got {found}", "true | false")
    try:
        value = SETTINGS[name].validate(raw["value"])
    except ConfigError as exc:
        raise attrs.evolve(exc, key=dotted(path), message="") from None
    return Override(enabled=raw["override"], value=value)


def _settings(path: tuple[Part, ...], raw: object) -> dict[Environment, dict[str, Override]]:
    overrides: dict[Environment, dict[str, Override]] = {}
    for env_name, table in _table(path, raw).items():
        if env_name not in {env.value for env in Environment}:
            raise _fail((*path, env_name), "unknown environment", _ENVIRONMENTS)
        env_path = (*path, env_name)
        env_table = overrides.setdefault(Environment(env_name), {})
        for name, item in _table(env_path, table).items():
            known_setting(name, key=dotted((*env_path, name)))
            env_table[name] = _override((*env_path, name), name, item)
    return overrides


def _string(path: tuple[Part, ...], value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f"expected a non-empty string, got {describe_found(value)}")
    return value


def _log_entry(path: tuple[Part, ...], raw: object) -> ConsentRecord:
    entry = _table(path, raw)
    for key in entry:
        if key not in _LOG_KEYS:
            raise _unknown((*path, key), _LOG_KEYS)
    for key in ("by", "at", "environment", "changes"):
        if key not in entry:
            raise _fail(path, f"missing {key!r}", ", ".join(_LOG_KEYS))
    at = entry["at"]
    if not isinstance(at, datetime) or at.utcoffset() is None:
        found = describe_found(at) if not isinstance(at, datetime) else "date-time without offset"
        raise _fail(
            (*path, "at"), f"expected an offset date-time, got {found}", "e.g. 2026-11-27T10:00:00Z"
        )
    env = entry["environment"]
    if env not in {e.value for e in Environment}:
        raise _fail(
            (*path, "environment"), f"unknown environment {describe_found(env)}", _ENVIRONMENTS
        )
    changes = entry["changes"]
    if not isinstance(changes, list) or not all(isinstance(c, str) for c in changes):
        raise _fail(
            (*path, "changes"), f"expected an array of strings, got {describe_found(changes)}"
        )
    statement = entry.get("statement", "")
    if not isinstance(statement, str):
        raise _fail((*path, "statement"), f"expected a string, got {describe_found(statement)}")
    return ConsentRecord(
        by=_string((*path, "by"), entry["by"]),
        at=at,
        environment=Environment(env),
        changes=tuple(changes),
        statement=statement,
    )


def _connection(
    path: tuple[Part, ...], name: str, raw: object, schema: ConfigSchema
) -> tuple[ConnectionSettings, tuple[ConsentRecord, ...]]:
    overrides: dict[Environment, dict[str, Override]] = {}
    log: list[ConsentRecord] = []
    for key, value in _table(path, raw).items():
        if key == "settings":
            overrides = _settings((*path, key), value)
        elif key == "consent_log":
            if not isinstance(value, list):
                raise _fail(
                    (*path, key), f"expected an array of tables, got {describe_found(value)}"
                )
            log.extend(_log_entry((*path, key, index), item) for index, item in enumerate(value))
        elif key in schema.connection_keys:
            schema.connection_keys[key](dotted((*path, key)), value)
        else:
            raise _unknown(
                (*path, key), sorted({*_RESERVED_CONNECTION_KEYS, *schema.connection_keys})
            )
    return ConnectionSettings(connection=name, overrides=overrides), tuple(log)


def parse_document(data: Mapping[str, object], schema: ConfigSchema) -> ParsedSettings:
    """Validate a file's plain values and build the settings model from them.

    Raises:
        ConfigError: naming the dotted key and the allowed values; the caller
            adds the file and line.
    """
    connections: dict[str, ConnectionSettings] = {}
    logs: dict[str, tuple[ConsentRecord, ...]] = {}
    for key, value in data.items():
        if key == "connections":
            for name, raw in _table((key,), value).items():
                connections[name], logs[name] = _connection((key, name), name, raw, schema)
        elif key in schema.tables:
            schema.tables[key](key, value)
        else:
            raise _unknown((key,), sorted({"connections", *schema.tables}))
    return ParsedSettings(
        connections=MappingProxyType(connections), consent_logs=MappingProxyType(logs)
    )
