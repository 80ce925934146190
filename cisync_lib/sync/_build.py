"""A :class:`SyncJob` from a deployment config, an environment and the secrets."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from cisync_lib.cmdb import CmdbConfig, WritePath
from cisync_lib.settings import Environment, require_consent
from cisync_lib.typing import JobProgress

from ._deploy import DeploymentConfig
from ._factory import build_servicenow, build_source, check_ca_bundles
from ._job import Destination, SyncJob
from ._secrets import Secrets

__all__ = ["job_from_config"]


def _cmdb_config(write_path: str, batch_size: int | None) -> CmdbConfig:
    base = CmdbConfig(write_path=WritePath(write_path))
    return base if batch_size is None else attrs.evolve(base, batch_size=batch_size)


def job_from_config(
    config: DeploymentConfig,
    environment: Environment | str,
    *,
    connection: str | None = None,
    destination: str | None = None,
    secrets: Secrets | None = None,
    environ: Mapping[str, str] | None = None,
    progress: JobProgress | None = None,
    with_source: bool = True,
) -> SyncJob:
    """Build the job a deployment config describes for one environment.

    Args:
        config: the loaded deployment config.
        environment: TEST or PROD: picks the destination tagged so (or checks ``destination``).
        connection: the source connection (default: ``sync.connection`` or the only one).
        destination: the destination's name (default: the only one tagged ``environment``).
        secrets: the secrets (default: loaded from the environment and the secrets file).
        environ: environment variables to read secrets from (default: ``os.environ``).
        progress: told about progress per phase.
        with_source: build the Defender source; ``False`` makes a job that can only
            apply saved plans (and needs no Defender secret).

    Raises:
        ConsentMissingError: a setting that needs consent (``allow_user_sync``) is on in
            ``environment`` but the consent log records no consented change to it.
        ConfigError: an unknown connection or destination, a missing secret, a
            ``ca_bundle`` that names no readable file, or a correlation chain naming a
            strategy no installed package registers.
        RelationshipNotAvailableError: ``sync.relationships`` names one the settings
            of ``environment`` do not make available.
    """
    source_spec = config.connection(connection)
    dest_spec = config.destination(environment, destination)
    # a setting ticked on by hand, without a consent-log entry, must not take effect
    require_consent(config.settings_file, source_spec.name, dest_spec.environment)
    # a vanished CA file is a config error naming its key, not a traceback at the first request
    check_ca_bundles(config.path, source_spec if with_source else None, dest_spec)
    secrets = secrets or config.load_secrets(environ)
    conn = build_servicenow(dest_spec, secrets)
    source = build_source(source_spec, secrets) if with_source else None
    return SyncJob(
        source=source,
        destination=Destination(
            name=dest_spec.name, environment=dest_spec.environment, connection=conn
        ),
        settings=config.settings_file.connection(source_spec.name, missing_ok=True),
        relationships=config.relationships,
        correlation=config.correlator(),
        cmdb=_cmdb_config(config.write_path, dest_spec.batch_size),
        state_dir=config.state_folder(source_spec.name, dest_spec.name),
        streams=source_spec.streams,
        progress=progress,
        lock_wait=config.lock_wait,
    )
