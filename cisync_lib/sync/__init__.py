"""Sync jobs, the deployment config and the sync report.

A :class:`SyncJob` reads Defender data from a source connection, correlates
the users of the selected apps with ``sys_user``, plans the changes to a
ServiceNow destination tagged TEST or PROD, and applies them only when asked
(``run(dry_run=False)``). Every job returns a :class:`SyncReport`.

A deployment is described by one TOML file (:func:`load_deployment`); secrets
come from environment variables or a separate secrets file. See the
"Configuration reference" page. A :class:`Preflight` checks, in seconds and
without writing, that a deployment can reach, sign in to and use both sides.

Example::

    from cisync_lib.sync import job_from_config, load_deployment

    config = load_deployment("cisync.toml")
    job = job_from_config(config, "test")
    report = job.plan()
    print(report.summary())
"""

from __future__ import annotations

from ._build import job_from_config
from ._deploy import DeploymentConfig, load_deployment
from ._job import Destination, SyncJob
from ._preflight import CheckItem, CheckReport, Preflight
from ._report import (
    REPORT_VERSION,
    GuardDecision,
    Mode,
    Outcome,
    PlanCounts,
    SyncReport,
    UnmatchedUser,
)
from ._sandbox_config import write_sandbox_config
from ._secrets import Secrets, load_secrets
from ._specs import CorrelationSpec, DestinationSpec, SourceSpec
from ._template import EXAMPLE_CONFIG, EXAMPLE_SECRETS
from ._users import observed_names

# what an embedder needs: the job, its report, the deployment config and its secrets, and
# the preflight of a deployment. The config's key declarations (KeySpec, *_KEYS,
# DEPLOYMENT_SCHEMA) are private; the progress callback's Protocol (JobProgress) lives in
# cisync_lib.typing. The `cisync` command uses nothing else (contract cli-public-api).
__all__ = [
    "EXAMPLE_CONFIG",
    "EXAMPLE_SECRETS",
    "REPORT_VERSION",
    "CheckItem",
    "CheckReport",
    "CorrelationSpec",
    "DeploymentConfig",
    "Destination",
    "DestinationSpec",
    "GuardDecision",
    "Mode",
    "Outcome",
    "PlanCounts",
    "Preflight",
    "Secrets",
    "SourceSpec",
    "SyncJob",
    "SyncReport",
    "UnmatchedUser",
    "job_from_config",
    "load_deployment",
    "load_secrets",
    "observed_names",
    "write_sandbox_config",
]
