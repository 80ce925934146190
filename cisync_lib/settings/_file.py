"""The human-edited TOML settings file: validated loading, consented and atomic saving."""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import FrameType, MappingProxyType
from typing import Any

import tomlkit
from attrs import field, frozen
from tomlkit.exceptions import ParseError, TOMLKitError

from cisync_lib._atomic import write_atomic
from cisync_lib.errors import ConfigError, ConsentRequiredError

from ._connection import ConnectionSettings
from ._consent import Consent, ConsentRecord
from ._diff import SettingChange
from ._edit import apply_changes
from ._lines import dotted, key_lines, line_of
from ._registry import Environment
from ._schema import CONVERTER, DEPRECATED_KINDS, SettingsDocument
from ._strict import structure_config

__all__ = ["SettingsFile", "load_settings"]

logger = logging.getLogger(__name__)


def _outside_stacklevel() -> int:
    # attribute the warning to the first caller outside cisync_lib, so the default
    # filters show it to whoever called load_settings() / load_deployment()
    level, frame = 1, sys._getframe(1)
    found: FrameType | None = frame
    while found is not None and found.f_globals.get("__name__", "").startswith("cisync_lib."):
        level, found = level + 1, found.f_back
    return level


def _warn_deprecated(where: str, text: str, data: Mapping[str, Any]) -> None:
    connections = data.get("connections")
    if not isinstance(connections, Mapping):
        return
    lines = key_lines(text)
    for name, table in connections.items():
        kind = table.get("kind") if isinstance(table, Mapping) else None
        if not isinstance(kind, str) or kind not in DEPRECATED_KINDS:
            continue
        key = dotted(("connections", name, "kind"))
        line = line_of(lines, key)
        place = f"{where}:{line}" if line is not None else where
        message = (
            f'{place}: {key}: "{kind}" is deprecated, write "{DEPRECATED_KINDS[kind]}" '
            "(source kinds are named after the API they read)"
        )
        logger.warning("%s", message)
        warnings.warn(message, DeprecationWarning, stacklevel=_outside_stacklevel())


def _read(path: Path, *, missing_ok: bool) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return ""
        raise ConfigError(file=str(path), problem="file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(file=str(path), problem=f"not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise ConfigError(file=str(path), problem=f"cannot read: {exc.strerror}") from exc


@frozen(kw_only=True)
class SettingsFile:
    """A settings file as loaded: the typed document, the connections' settings, and the text.

    Load with :func:`load_settings`; change a :class:`ConnectionSettings`
    and give it to :meth:`save` with a :class:`Consent`. The object is
    immutable; :meth:`save` returns the file as saved.

    Attributes:
        path: where the file lives.
        document: the whole file, structured into its document class
            (:class:`SettingsDocument` or the subclass it was loaded with).
        text: the file's text as loaded (empty for a file that does not exist yet).
        connections: each connection's settings, by connection name (from ``document``).
        consent_logs: each connection's consent log, oldest first (from ``document``).
    """

    path: Path = field(converter=Path)
    document: SettingsDocument = field(factory=SettingsDocument)
    text: str = field(default="", repr=False)

    connections: Mapping[str, ConnectionSettings] = field(init=False, repr=False, eq=False)
    consent_logs: Mapping[str, tuple[ConsentRecord, ...]] = field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        # the settings model of each connection, built once from the typed tables
        tables = self.document.connections
        settings = {
            name: ConnectionSettings(connection=name, overrides=table.settings)
            for name, table in tables.items()
        }
        logs = {name: table.consent_log for name, table in tables.items()}
        object.__setattr__(self, "connections", MappingProxyType(settings))
        object.__setattr__(self, "consent_logs", MappingProxyType(logs))

    @classmethod
    def parse(
        cls,
        text: str,
        *,
        path: str | os.PathLike[str],
        document_type: type[SettingsDocument] = SettingsDocument,
    ) -> SettingsFile:
        """Validate TOML text as the settings file at ``path`` (which is not read).

        Args:
            text: the file's text.
            path: the file's path, named in errors.
            document_type: the document class to structure the file into (another
                layer's subclass when the file holds its configuration too).

        Raises:
            ConfigError: a TOML syntax error, or an unknown key, wrong type or
                value not allowed; the message names the file, the dotted key,
                the line when known and the allowed values.
        """
        file = cls._parse(text, path=path, document_type=document_type)
        _warn_deprecated(str(path), text, file.data)
        return file

    @classmethod
    def _parse(
        cls, text: str, *, path: str | os.PathLike[str], document_type: type[SettingsDocument]
    ) -> SettingsFile:
        # parse() without the deprecation warnings (a save re-reads what it wrote)
        where = str(path)
        try:
            data: dict[str, Any] = tomlkit.parse(text).unwrap()
        except ParseError as exc:
            problem = f"invalid TOML (column {exc.col + 1}): {str(exc).split(' at line ')[0]}"
            raise ConfigError(file=where, line=exc.line, problem=problem) from exc
        except TOMLKitError as exc:  # e.g. a key defined twice, found after parsing
            raise ConfigError(file=where, problem=f"invalid TOML: {exc}") from exc
        document = structure_config(
            data,
            document_type,
            file=where,
            text=text,
            converter=CONVERTER,
            unknown=document_type.explain_unknown,
        )
        return cls(path=Path(path), document=document, text=text)

    @property
    def data(self) -> dict[str, Any]:
        """The whole file as plain values (a fresh copy), e.g. to show or export it."""
        data: dict[str, Any] = tomlkit.parse(self.text).unwrap()
        return data

    def connection(self, name: str, *, missing_ok: bool = False) -> ConnectionSettings:
        """The settings of the named connection.

        Args:
            name: the connection (``[connections.<name>]``).
            missing_ok: return settings with no overrides when the file does
                not mention the connection, instead of raising.

        Raises:
            ConfigError: the file has no such connection; ``allowed`` lists those it has.
        """
        found = self.connections.get(name)
        if found is not None:
            return found
        if missing_ok:
            return ConnectionSettings(connection=name)
        raise ConfigError(
            file=str(self.path),
            key=dotted(("connections", name)),
            problem="no such connection",
            allowed=", ".join(self.connections) or "none defined",
        )

    def consent_log(self, name: str) -> tuple[ConsentRecord, ...]:
        """The consent log of the named connection, oldest first (empty if none)."""
        return self.consent_logs.get(name, ())

    def save(
        self,
        settings: ConnectionSettings,
        *,
        consent: Consent | None,
        confirm: Iterable[tuple[Environment | str, str]] = (),
    ) -> SettingsFile:
        """Save one connection's changed settings, recording the consent in its log.

        Only the settings that differ from the file as loaded are written;
        the rest of the file, comments included, is kept as it was. The file
        is replaced atomically. Saving settings that did not change writes
        nothing and needs no consent.

        Args:
            settings: the connection's settings as they should be saved.
            consent: who consents, when, to what; ``None`` refuses to save a change.
            confirm: (environment, setting) pairs whose value stays as it is but whose
                consent is recorded now (a value put in the file by hand: the log gets
                ``name: <state> -> <state>``).

        Returns:
            The file as saved (or ``self`` when nothing changed).

        Raises:
            ConsentRequiredError: there are changes but no consent; nothing was written.
            ConfigError: the file changed on disk since it was loaded, or it
                cannot be written; nothing was written.
        """
        before = self.connection(settings.connection, missing_ok=True)
        changes = list(settings.changes_from(before))
        changed = {(c.environment, c.name) for c in changes}
        for env, name in confirm:
            key = (Environment(env), name)
            if key not in changed:
                stored = settings.overrides[key[0]].get(name)
                changes.append(SettingChange(environment=key[0], name=name, old=stored, new=stored))
                changed.add(key)
        if not changes:
            return self
        if consent is None:
            raise ConsentRequiredError(
                connection=settings.connection, changes=tuple(map(str, changes))
            )
        if _read(self.path, missing_ok=True) != self.text:
            raise ConfigError(
                file=str(self.path),
                problem="changed on disk since it was loaded; load it again and redo the change",
            )
        document = tomlkit.parse(self.text)
        apply_changes(document, settings.connection, changes, consent)
        text = document.as_string()
        # never write what could not be loaded back
        saved = SettingsFile._parse(text, path=self.path, document_type=type(self.document))
        try:
            write_atomic(self.path, text)
        except OSError as exc:
            raise ConfigError(file=str(self.path), problem=f"cannot write: {exc}") from exc
        logger.info(
            "saved %d settings change(s) of connection %r in %s, consent by %s",
            len(changes),
            settings.connection,
            self.path,
            consent.by,
        )
        return saved


def load_settings(
    path: str | os.PathLike[str],
    *,
    document_type: type[SettingsDocument] = SettingsDocument,
    missing_ok: bool = False,
) -> SettingsFile:
    """Load and validate a settings file.

    Args:
        path: the TOML file.
        document_type: the document class the file is structured into: a
            subclass of :class:`SettingsDocument` when another layer's
            configuration lives in the same file; by default only the settings
            layout and each connection's ``kind``.
        missing_ok: treat a missing file as empty (to create it by saving).

    Raises:
        ConfigError: the file is missing or unreadable, is not valid TOML, or
            holds an unknown key, a wrong type or a value not allowed; the
            message names the file, the dotted key, the line and the allowed values.
    """
    text = _read(Path(path), missing_ok=missing_ok)
    return SettingsFile.parse(text, path=path, document_type=document_type)
