"""Sync jobs, the deployment config and the sync report.

A :class:`SyncJob` reads Defender data from a source connection, correlates
the users of the selected apps with ``sys_user``, plans the changes to a
ServiceNow destination tagged TEST or PROD, and applies them only when asked
(``run(dry_run=False)``). Every job returns a :class:`SyncReport`.

A deployment is described by one TOML file (:func:`load_deployment`); secrets
come from environment variables or a separate secrets file. See the
"Configuration reference" page.

Example::

    from cisync_lib.sync import job_from_config, load_deployment

    config = load_deployment("cisync.toml")
    job = job_from_config(config, "test")
    report = job.plan()
    print(report.summary())
"""

from __future__ import annotations

from ._build import job_from_config
from ._checks import KeySpec
from ._deploy import DEFAULT_STATE_DIR, DeploymentConfig, load_deployment
from ._job import Destination, JobProgress, SyncJob
from ._keys import CONNECTION_KEYS, CORRELATION_KEYS, DEPLOYMENT_SCHEMA, DESTINATION_KEYS, SYNC_KEYS
from ._report import REPORT_VERSION, GuardDecision, SyncReport, UnmatchedUser
from ._sandbox_config import write_sandbox_config
from ._secrets import SECRET_KEYS, Secrets, env_var_name, load_secrets
from ._specs import CorrelationSpec, DestinationSpec, SourceSpec
from ._template import EXAMPLE_CONFIG, EXAMPLE_SECRETS

__all__ = [
    "CONNECTION_KEYS",
    "CORRELATION_KEYS",
    "DEFAULT_STATE_DIR",
    "DEPLOYMENT_SCHEMA",
    "DESTINATION_KEYS",
    "EXAMPLE_CONFIG",
    "EXAMPLE_SECRETS",
    "REPORT_VERSION",
    "SECRET_KEYS",
    "SYNC_KEYS",
    "CorrelationSpec",
    "DeploymentConfig",
    "Destination",
    "DestinationSpec",
    "GuardDecision",
    "JobProgress",
    "KeySpec",
    "Secrets",
    "SourceSpec",
    "SyncJob",
    "SyncReport",
    "UnmatchedUser",
    "env_var_name",
    "job_from_config",
    "load_deployment",
    "load_secrets",
    "write_sandbox_config",
]
