"""Secrets of a deployment: from environment variables or a separate secrets file, never the config.

The deployment config names *where* a secret comes from, never the secret
itself. Each secret of a connection or destination has a fixed environment
variable name (``CISYNC_<NAME>_<KEY>``, e.g. ``CISYNC_CONTOSO_CLIENT_SECRET``)
and a key in the secrets file (``[connections.contoso] client_secret = ...``).
An environment variable wins over the file, so a scheduler can inject one
secret without editing files.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import tomlkit
from attrs import field, frozen
from tomlkit.exceptions import ParseError, TOMLKitError

from cisync_lib.errors import ConfigError

__all__ = [
    "SECRET_KEYS",
    "Secrets",
    "env_var_name",
    "is_secret_key",
    "load_secrets",
]

logger = logging.getLogger(__name__)

#: The secrets each section may have, by section: connections and destinations.
SECRET_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "connections": ("client_secret", "certificate_passphrase", "private_key", "api_token"),
        "destinations": ("password", "client_secret"),
    }
)

# names that look like a secret wherever they appear in the config; a config
# key matching this is refused so a secret never lands in a reviewed, shared file
_SECRET_LIKE = re.compile(
    r"(^|_)(password|passwd|pwd|secret|token|passphrase|private_key|api_key|apikey|assertion|"
    r"credential_value)($|_)",
    re.IGNORECASE,
)
# keys that merely point at a secret (a file name), so they are not secrets themselves
_NOT_SECRETS = frozenset({"secrets_file"})


def is_secret_key(key: str) -> bool:
    """Whether a config key's name looks like a secret's (``password``, ``client_secret``)."""
    return key not in _NOT_SECRETS and bool(_SECRET_LIKE.search(key))


def env_var_name(name: str, key: str) -> str:
    """The environment variable holding secret ``key`` of connection or destination ``name``.

    Example:
        >>> env_var_name("contoso", "client_secret")
        'CISYNC_CONTOSO_CLIENT_SECRET'
        >>> env_var_name("sn-test", "password")
        'CISYNC_SN_TEST_PASSWORD'
    """
    return "CISYNC_" + re.sub(r"[^A-Z0-9]+", "_", f"{name}_{key}".upper()).strip("_")


def _frozen_tables(value: Mapping[str, Mapping[str, Mapping[str, str]]]) -> Mapping[str, object]:
    return MappingProxyType({k: MappingProxyType(dict(v)) for k, v in value.items()})


@frozen(kw_only=True)
class Secrets:
    """Where the secrets of one deployment come from.

    Attributes:
        file: the secrets file, if the config names one.
        tables: the secrets file's values: section -> name -> key -> value.
        environ: the environment variables to look in (``os.environ`` by default).
    """

    file: Path | None = None
    tables: Mapping[str, Mapping[str, Mapping[str, str]]] = field(
        factory=dict, converter=_frozen_tables, repr=False
    )
    environ: Mapping[str, str] = field(factory=lambda: os.environ, repr=False, eq=False)

    def get(self, section: str, name: str, key: str) -> str | None:
        """The secret ``key`` of ``[section.name]``, or ``None`` when neither source has it."""
        value = self.environ.get(env_var_name(name, key))
        if value:
            return value
        return self.tables.get(section, {}).get(name, {}).get(key)

    def require(self, section: str, name: str, key: str, *, why: str) -> str:
        """The secret ``key`` of ``[section.name]``.

        Raises:
            ConfigError: neither the environment nor the secrets file has it;
                the message names both places to put it.
        """
        value = self.get(section, name, key)
        if value:
            return value
        where = f"the environment variable {env_var_name(name, key)}"
        if self.file is not None:
            where += f" or [{section}.{name}] {key} in {self.file}"
        else:
            where += " or a secrets file (sync.secrets_file)"
        raise ConfigError(
            key=f"{section}.{name}",
            problem=f"needs the secret {key!r} ({why}); set {where}",
        )


def _check_table(path: Path, data: Mapping[str, object]) -> dict[str, dict[str, dict[str, str]]]:
    out: dict[str, dict[str, dict[str, str]]] = {}
    for section, table in data.items():
        if section not in SECRET_KEYS:
            raise ConfigError(
                file=str(path), key=section, problem="unknown key", allowed=", ".join(SECRET_KEYS)
            )
        if not isinstance(table, dict):
            raise ConfigError(file=str(path), key=section, problem="expected a table")
        for name, entry in table.items():
            if not isinstance(entry, dict):
                raise ConfigError(
                    file=str(path), key=f"{section}.{name}", problem="expected a table"
                )
            for key, value in entry.items():
                dotted = f"{section}.{name}.{key}"
                if key not in SECRET_KEYS[section]:
                    allowed = ", ".join(SECRET_KEYS[section])
                    raise ConfigError(
                        file=str(path), key=dotted, problem="unknown secret", allowed=allowed
                    )
                if not isinstance(value, str) or not value:
                    raise ConfigError(file=str(path), key=dotted, problem="expected a string")
            out.setdefault(section, {})[name] = dict(entry)
    return out


def load_secrets(
    path: str | os.PathLike[str] | None, *, environ: Mapping[str, str] | None = None
) -> Secrets:
    """Load a secrets file (TOML); ``None`` gives environment variables only.

    A file others can read is used but logged as a warning.

    Raises:
        ConfigError: the file is missing, not TOML, or has an unknown section or key.
    """
    env = os.environ if environ is None else environ
    if path is None:
        return Secrets(environ=env)
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(file=str(file), problem=f"cannot read the secrets file: {exc}") from exc
    try:
        data = tomlkit.parse(text).unwrap()
    except ParseError as exc:
        raise ConfigError(file=str(file), line=exc.line, problem="invalid TOML") from exc
    except TOMLKitError as exc:
        raise ConfigError(file=str(file), problem=f"invalid TOML: {exc}") from exc
    if os.name == "posix" and file.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning("secrets file %s is readable by others; chmod 600 it", file)
    return Secrets(file=file, tables=_check_table(file, data), environ=env)
