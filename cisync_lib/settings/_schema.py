"""What a settings file contains, as typed tables the strict converter structures.

The file is also the deployment config of a sync, which adds keys to each
``[connections.<name>]`` table and tables of its own at the top level: that
layer subclasses :class:`ConnectionTable` and :class:`SettingsDocument` and
gives its document class to :func:`~cisync_lib.settings.load_settings`.
Anything the document class does not declare is an error.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

import attrs
import cattrs
from attrs import field, frozen
from cattrs.errors import IterableValidationError, IterableValidationNote

from cisync_lib.errors import ConfigError

from ._consent import ConsentRecord
from ._registry import SETTINGS, Environment, describe_found
from ._strict import make_config_converter, rename_keys, with_note
from ._values import Override

__all__ = [
    "CONVERTER",
    "DEPRECATED_KINDS",
    "SOURCE_KINDS",
    "ConnectionTable",
    "SettingsDocument",
    "SourceKind",
]

#: ``kind`` values of a source connection, named after the API the source reads.
SourceKind = Literal["graph", "legacy", "snapshot"]
SOURCE_KINDS: tuple[str, ...] = typing.get_args(SourceKind)
#: Old spellings still accepted, with a deprecation warning, and what they mean now.
DEPRECATED_KINDS: Mapping[str, SourceKind] = MappingProxyType({"mdca": "graph"})

_OVERRIDE_SHAPE = "{ override = true | false, value = ... }"


def _kind(value: object, _: object) -> SourceKind:
    if isinstance(value, str) and value in DEPRECATED_KINDS:
        return DEPRECATED_KINDS[value]  # the loader warns about the old spelling
    if value not in SOURCE_KINDS:
        raise ConfigError(
            problem=f"unknown kind {describe_found(value)}",
            allowed=" | ".join(f'"{kind}"' for kind in SOURCE_KINDS),
        )
    return typing.cast(SourceKind, value)  # one of SourceKind's values, checked just above


def _overrides(converter: cattrs.Converter) -> typing.Callable[[object, Any], object]:
    # one environment's table: each key a registered setting, each value checked by its rules
    def structure(value: object, _: object) -> Mapping[str, Override]:
        if not isinstance(value, dict):
            raise ConfigError(problem=f"expected a table, got {describe_found(value)}")
        out: dict[str, Override] = {}
        errors: list[Exception] = []
        for name, raw in value.items():
            try:
                spec = SETTINGS.get(name)
                if spec is None:
                    raise ConfigError(problem="unknown setting", allowed=", ".join(SETTINGS))
                if not isinstance(raw, dict):
                    found = describe_found(raw)
                    raise ConfigError(
                        problem=f"expected {_OVERRIDE_SHAPE}, got {found}", allowed=spec.allowed
                    )
                override = converter.structure(raw, Override)
                out[name] = attrs.evolve(override, value=spec.validate(override.value))
            except Exception as exc:  # every setting's problem is collected
                note = IterableValidationNote(f"@ key {name!r}", name, Override)
                errors.append(with_note(exc, note))
        if errors:
            raise IterableValidationError("while structuring settings", errors, Mapping)
        return MappingProxyType(out)

    return structure


def _is_overrides(t: object) -> bool:
    return typing.get_origin(t) in (Mapping, typing.Mapping) and typing.get_args(t) == (
        str,
        Override,
    )


#: The strict converter of settings files and of the deployment config built on them.
CONVERTER = make_config_converter()
CONVERTER.register_structure_hook_func(_is_overrides, _overrides(CONVERTER))
CONVERTER.register_structure_hook_func(lambda t: t == SourceKind, _kind)
rename_keys(Override, {"enabled": "override"})
_consent_record = CONVERTER.get_structure_hook(ConsentRecord)


def _logged(value: object, t: Any) -> ConsentRecord:
    record: ConsentRecord = _consent_record(value, t)
    if not record.by.strip():
        raise ConfigError(
            key="by", problem=f"expected a non-empty string, got {describe_found('')}"
        )
    return record


CONVERTER.register_structure_hook(ConsentRecord, _logged)


def _no_overrides() -> Mapping[Environment, Mapping[str, Override]]:
    return MappingProxyType({})


@frozen(kw_only=True)
class ConnectionTable:
    """A ``[connections.<name>]`` table as the settings layer reads it.

    Attributes:
        kind: the API the source reads: ``graph``, ``legacy`` or ``snapshot``
            (``"mdca"`` in the file is a deprecated alias of ``graph``).
        settings: per environment, the stored overrides by setting name.
        consent_log: the connection's consent log, oldest first.
    """

    kind: SourceKind = field(
        default="graph",
        metadata={
            "doc": 'Where Defender data comes from, named after the API read: ``"graph"`` '
            '(Microsoft Graph, recommended), ``"legacy"`` (the Defender for Cloud Apps REST '
            'API) or ``"snapshot"`` (a saved snapshot file). ``"mdca"`` is a deprecated alias '
            'of ``"graph"``: it still loads, with a warning naming the file and key.',
            "default": '"graph"',
        },
    )
    settings: Mapping[Environment, Mapping[str, Override]] = field(factory=_no_overrides)
    consent_log: tuple[ConsentRecord, ...] = ()


def _no_connections() -> Mapping[str, ConnectionTable]:
    return MappingProxyType({})


@frozen(kw_only=True)
class SettingsDocument:
    """A whole settings file: its ``[connections.<name>]`` tables.

    Another layer whose configuration lives in the same file subclasses it,
    adding tables (and redeclaring ``connections`` with its own
    :class:`ConnectionTable` subclass), and loads the file with
    ``load_settings(path, document_type=...)``.

    Attributes:
        connections: each connection's table, by name.
    """

    connections: Mapping[str, ConnectionTable] = field(factory=_no_connections)

    @classmethod
    def explain_unknown(cls, path: tuple[str | int, ...]) -> ConfigError | None:
        """The error for an unknown key at ``path`` when "unknown key" would not say enough.

        A subclass overrides it, e.g. to refuse a secret written into the file;
        ``None`` (the default) reports the key as unknown, listing the allowed ones.
        """
        return None
