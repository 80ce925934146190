"""The deployment config: one TOML file for connections, destinations, settings and the sync.

It is the settings file of :mod:`cisync_lib.settings` (same layout, same
loader, same consent log) with more keys and tables: the settings loader
structures it into :class:`~cisync_lib.sync._keys.DeploymentDocument` with its
strict converter, and this module adds the checks across keys. Secrets never
appear in it: they come from environment variables or the secrets file it names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from attrs import field, frozen

from cisync_lib.correlation import Correlator
from cisync_lib.errors import ConfigError
from cisync_lib.servicenow import ServiceNowConnection
from cisync_lib.settings import (
    ConnectionSettings,
    Environment,
    RelationshipKind,
    SettingsFile,
    load_settings,
)

from ._factory import build_correlator, build_servicenow, check_ca_bundles
from ._keys import DeploymentDocument
from ._secrets import Secrets, load_secrets
from ._specs import (
    Checker,
    CorrelationSpec,
    DestinationSpec,
    SourceSpec,
    check_chain,
    correlation_spec,
    destination_spec,
    resolve_path,
    source_spec,
)

__all__ = ["DEFAULT_STATE_DIR", "DeploymentConfig", "load_deployment"]

DEFAULT_STATE_DIR = ".cisync/state"


def _frozen(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


@frozen(kw_only=True)
class DeploymentConfig:
    """A whole deployment as configured: what to read, where to write, and how.

    Load it with :func:`load_deployment`. Settings changes go through
    ``settings_file`` (:meth:`~cisync_lib.settings.SettingsFile.save`
    with a :class:`~cisync_lib.settings.Consent`).

    Attributes:
        path: the config file.
        settings_file: the file as the settings layer sees it (settings, consent logs).
        connections: source connections by name.
        destinations: ServiceNow destinations by name.
        correlation: the correlation chain, rules and alias map.
        write_path: ``table`` or ``ire``.
        state_dir: the folder for run state and reports.
        secrets_file: the secrets file, if named.
        lock_wait: seconds a writing run waits for another one on the same state folder.
        keep_reports: how many run reports each state folder keeps.
        default_connection: the connection used when none is named.
        relationships: the relationships jobs select (``None``: every available one).
    """

    path: Path
    settings_file: SettingsFile = field(repr=False)
    connections: Mapping[str, SourceSpec] = field(converter=_frozen)
    destinations: Mapping[str, DestinationSpec] = field(converter=_frozen)
    correlation: CorrelationSpec = field(factory=CorrelationSpec)
    write_path: str = "table"
    state_dir: Path = Path(DEFAULT_STATE_DIR)
    secrets_file: Path | None = None
    lock_wait: float = 10.0
    keep_reports: int = 30
    default_connection: str | None = None
    relationships: tuple[RelationshipKind, ...] | None = None

    def _fail(self, key: str, problem: str, allowed: str | None = None) -> ConfigError:
        return ConfigError(file=str(self.path), key=key, problem=problem, allowed=allowed)

    def connection(self, name: str | None = None) -> SourceSpec:
        """The named source connection, or the default one.

        Raises:
            ConfigError: no such connection, or none named while several exist.
        """
        name = name or self.default_connection
        if name is None:
            if len(self.connections) == 1:
                return next(iter(self.connections.values()))
            raise self._choose("connections", "sync.connection", self.connections)
        if name not in self.connections:
            listed = ", ".join(self.connections) or "none defined"
            raise self._fail(f"connections.{name}", "no such connection", listed)
        return self.connections[name]

    def destination(
        self, environment: Environment | str | None = None, name: str | None = None
    ) -> DestinationSpec:
        """The destination with ``name``, or the only one tagged ``environment``.

        Raises:
            ConfigError: no such destination; none or several tagged ``environment``;
                or the named one carries another tag.
        """
        env = Environment(environment) if environment is not None else None
        if name is not None:
            found = self.destinations.get(name)
            if found is None:
                listed = ", ".join(self.destinations) or "none defined"
                raise self._fail(f"destinations.{name}", "no such destination", listed)
            if env is not None and found.environment is not env:
                raise self._fail(
                    f"destinations.{name}.environment",
                    f"is {found.environment.value}, not {env.value}",
                )
            return found
        matching = {
            n: d for n, d in self.destinations.items() if env is None or d.environment is env
        }
        if len(matching) == 1:
            return next(iter(matching.values()))
        what = f"tagged environment = {env.value!r}" if env else "defined"
        if not matching:
            tags = ", ".join(f"{n} ({d.environment.value})" for n, d in self.destinations.items())
            raise self._fail("destinations", f"no destination {what}", tags or "none defined")
        raise self._choose("destinations", "--destination", matching)

    def _choose(self, key: str, how: str, options: Mapping[str, object]) -> ConfigError:
        return self._fail(key, f"several to choose from; name one ({how})", ", ".join(options))

    def settings(self, connection: str | None = None) -> ConnectionSettings:
        """The named (or default) connection's settings overrides."""
        return self.settings_file.connection(self.connection(connection).name, missing_ok=True)

    def load_secrets(self, environ: Mapping[str, str] | None = None) -> Secrets:
        """The deployment's secrets: environment variables, then the secrets file.

        Raises:
            ConfigError: the secrets file is missing, invalid or has unknown keys.
        """
        return load_secrets(self.secrets_file, environ=environ)

    def servicenow(
        self,
        environment: Environment | str | None = None,
        name: str | None = None,
        *,
        secrets: Secrets | None = None,
    ) -> ServiceNowConnection:
        """The connection to a destination (chosen as :meth:`destination` does).

        For work on ServiceNow alone, such as resolving identifiers against
        ``sys_user``; a sync job gets its connection from
        :func:`~cisync_lib.sync.job_from_config`. Nothing is sent yet: check the
        connection with :meth:`~cisync_lib.sync.Preflight.check_servicenow`.

        Args:
            environment: TEST or PROD: picks the destination tagged so (or checks ``name``).
            name: the destination's name.
            secrets: the secrets (default: :meth:`load_secrets`).

        Raises:
            ConfigError: no such destination, a ``ca_bundle`` that names no readable file,
                or a secret it needs is in neither the environment nor the secrets file.
        """
        spec = self.destination(environment, name)
        check_ca_bundles(self.path, None, spec)
        return build_servicenow(spec, secrets or self.load_secrets())

    def correlator(self) -> Correlator:
        """The correlator the ``[correlation]`` table describes: chain, rules and alias map.

        Raises:
            ConfigError: the chain names a strategy no installed package registers
                (naming the file, the line and the key, e.g. ``correlation.chain[2]``).
            AliasMapError: the alias map is invalid.
        """
        check = Checker(file=self.path, text=self.settings_file.text)
        check_chain(check, self.correlation.config.strategies)
        return build_correlator(self.correlation)

    def state_folder(self, connection: str, destination: str) -> Path:
        """The state folder of jobs from ``connection`` into ``destination``."""
        return self.state_dir / f"{connection}--{destination}"

    def reload(self) -> DeploymentConfig:
        """Load the file again (after a settings change saved through it)."""
        return load_deployment(self.path)


def load_deployment(path: str | os.PathLike[str]) -> DeploymentConfig:
    """Load and validate a deployment config.

    Args:
        path: the TOML file.

    Raises:
        ConfigError: naming the file, the dotted key, the line when known and
            the allowed values: a syntax error, an unknown key, a wrong type,
            a value not allowed, a missing required key, or a secret written
            into the file.
    """
    file = Path(path)
    settings_file = load_settings(file, document_type=DeploymentDocument)
    document = settings_file.document
    if not isinstance(document, DeploymentDocument):  # what load_settings was asked for
        raise TypeError(f"expected a DeploymentDocument, got {type(document).__name__}")
    check = Checker(file=file, text=settings_file.text)
    # environment variables for secrets are named after connections and destinations
    # (CISYNC_<NAME>_<KEY>): one name must not mean both
    clash = sorted(set(document.connections) & set(document.destinations))
    if clash:
        raise check.fail(
            f"destinations.{clash[0]}",
            "a connection has the same name; secrets' variable names would clash",
        )
    sync = document.sync
    if sync.connection is not None and sync.connection not in document.connections:
        raise check.fail(
            "sync.connection",
            f"no connection named {sync.connection!r}",
            ", ".join(document.connections) or "none defined",
        )
    base = file.parent
    return DeploymentConfig(
        path=file,
        settings_file=settings_file,
        connections={
            name: source_spec(check, name, table) for name, table in document.connections.items()
        },
        destinations={
            name: destination_spec(check, name, table)
            for name, table in document.destinations.items()
        },
        correlation=correlation_spec(check, document.correlation),
        write_path=sync.write_path,
        state_dir=resolve_path(base, sync.state_dir),
        secrets_file=resolve_path(base, sync.secrets_file) if sync.secrets_file else None,
        default_connection=sync.connection,
        lock_wait=sync.lock_wait,
        keep_reports=sync.keep_reports,
        relationships=sync.relationships,
    )
