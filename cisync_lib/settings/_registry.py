"""The registry of connection settings: names, product defaults and what each accepts.

Every setting a Defender for Cloud Apps source connection has is one
:class:`SettingSpec` in :data:`SETTINGS`. The registry is the single place a
setting is defined: validation, the TOML loader, the effective-value lookup
and the configuration reference all read it. A later feature adds its setting
here, with its product default and a description a user can act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from cisync_lib.errors import ConfigError

from ._spec import Environment, SettingSpec, describe_found, render_value

__all__ = [
    "SETTINGS",
    "Environment",
    "SettingSpec",
    "describe_found",
    "known_setting",
    "render_value",
]

_SPECS = (
    SettingSpec(
        name="allow_user_sync",
        title="Allow User Synchronization",
        type=bool,
        default=False,
        doc=(
            "Link each Business Application to the ``sys_user`` records of the people "
            'Defender for Cloud Apps saw using it (the many-to-many "User uses Cloud App" '
            "relationship). Off by default: user names are personal data, so turning it on "
            "is a deliberate, consented change. While it is off a job may not select the "
            "relationship."
        ),
        needs_consent=True,
    ),
    SettingSpec(
        name="max_risk_score",
        title="Maximum Risk Score",
        type=int,
        default=10,
        minimum=0,
        maximum=10,
        doc=(
            "Only apps whose Defender risk score is at most this value are synced "
            "(0 is the riskiest, 10 the safest). The default 10 syncs every app. Lowering "
            "it later retires the Business Applications that no longer pass."
        ),
    ),
    SettingSpec(
        name="report_time_frame",
        title="Report Time Frame",
        type=int,
        default=30,
        choices=(7, 30, 90),
        doc=(
            "How many days of Defender's aggregated discovery data a job reads: 7, 30 "
            "or 90 (Defender offers only these periods). Default 30."
        ),
    ),
    SettingSpec(
        name="app_scope",
        title="App Scope",
        type=str,
        default="all",
        choices=("all", "sanctioned", "sanctioned_or_monitored"),
        doc=(
            'Which discovered apps are synced by their sanction state: ``"all"`` (default), '
            'only ``"sanctioned"`` apps, or ``"sanctioned_or_monitored"``. Applied together '
            "with the maximum risk score."
        ),
    ),
    SettingSpec(
        name="grace_runs",
        title="Grace Runs",
        type=int,
        default=3,
        minimum=0,
        doc=(
            "How many consecutive runs an app or a user link may be missing from Defender's "
            "data before it is retired or removed. Default 3, so a short gap in discovery "
            "data does not churn the CMDB; 0 removes at the first missed run."
        ),
    ),
    SettingSpec(
        name="grace_days",
        title="Grace Days",
        type=int,
        default=0,
        minimum=0,
        doc=(
            "How many days an app or a user link must also have been missing before it is "
            "retired or removed, on top of the grace runs. Default 0: off, only runs count."
        ),
    ),
    SettingSpec(
        name="max_retire_percent",
        title="Maximum Retire Percent",
        type=float,
        default=10.0,
        minimum=0,
        maximum=100,
        doc=(
            "Blast-radius guard: a run that would retire more than this share of the "
            "Business Applications it manages is refused and writes nothing, unless forced. "
            "Default 10 (percent)."
        ),
    ),
    SettingSpec(
        name="max_unlink_percent",
        title="Maximum Unlink Percent",
        type=float,
        default=20.0,
        minimum=0,
        maximum=100,
        doc=(
            "Blast-radius guard: a run that would remove more than this share of the user "
            "links it manages is refused and writes nothing, unless forced. Default 20 "
            "(percent)."
        ),
    ),
    SettingSpec(
        name="heartbeat_hours",
        title="Heartbeat Hours",
        type=int,
        default=24,
        minimum=1,
        doc=(
            "A Business Application's ``last_discovered`` date is refreshed only when it is "
            "older than this many hours, so re-running a sync within the interval writes "
            "nothing. Default 24."
        ),
    ),
)

SETTINGS: Mapping[str, SettingSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})
"""Every connection setting by name, in the order the product shows them."""


def known_setting(name: str, *, key: str | None = None) -> SettingSpec:
    """Return the spec of a registered setting.

    Args:
        name: the setting's name.
        key: the dotted key to name in the error (default: ``name``).

    Raises:
        ConfigError: ``name`` is not a registered setting; ``allowed`` lists them.
    """
    try:
        return SETTINGS[name]
    except KeyError:
        raise ConfigError(
            key=key or name, problem="unknown setting", allowed=", ".join(SETTINGS)
        ) from None
