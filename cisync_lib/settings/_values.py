"""Overrides and the effective values a job uses."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, TypeVar

import attrs
from attrs import field, frozen

from cisync_lib.errors import ConfigError

from ._registry import SETTINGS, Environment, known_setting, render_value

__all__ = ["EffectiveSettings", "EffectiveValue", "Override", "Source"]

Source = Literal["default", "override"]
_T = TypeVar("_T")


@frozen(kw_only=True)
class Override:
    """One environment's override of one setting: the "Override default" box and its slider.

    The value counts only while ``enabled`` is true. Moving the slider without
    ticking the box keeps the value (so ticking it later restores it) but a
    job still uses the product default.

    Attributes:
        enabled: the "Override default" tick box.
        value: the slider or field value next to it.
    """

    enabled: bool = field(validator=attrs.validators.instance_of(bool))
    value: object


@frozen(kw_only=True)
class EffectiveValue:
    """The value of one setting as a job uses it, and where it came from.

    Attributes:
        name: the setting's name.
        value: the value in effect.
        source: ``"override"`` when a ticked override supplied it, else ``"default"``.
    """

    name: str
    value: object
    source: Source

    def describe(self) -> str:
        """The value as written in the TOML file, and its source: ``4 (override)``."""
        return f"{render_value(self.value)} ({self.source})"


def _complete(values: Mapping[str, EffectiveValue]) -> Mapping[str, EffectiveValue]:
    # settings not given take their product default, so callers and tests can
    # build an EffectiveSettings naming only the values they care about
    given: dict[str, EffectiveValue] = {}
    for name, item in values.items():
        spec = known_setting(name)
        if item.name != name:
            raise ConfigError(key=name, problem=f"holds the value of {item.name!r}")
        try:
            given[name] = attrs.evolve(item, value=spec.validate(item.value))
        except ConfigError as exc:
            raise attrs.evolve(exc, key=name, message="") from None
    return MappingProxyType(
        {
            name: given.get(name) or EffectiveValue(name=name, value=spec.default, source="default")
            for name, spec in SETTINGS.items()
        }
    )


@frozen(kw_only=True)
class EffectiveSettings:
    """The settings a sync job in one environment runs with.

    Build it with :meth:`ConnectionSettings.effective`. Index it by name
    (``eff["max_risk_score"]``) or use the typed properties.

    Attributes:
        environment: the environment the values apply to.
        values: every registered setting's effective value and its source;
            names left out take their product default.
    """

    environment: Environment = field(converter=Environment)
    values: Mapping[str, EffectiveValue] = field(factory=dict, converter=_complete)

    def __getitem__(self, name: str) -> object:
        """Return the effective value of the named setting.

        Raises:
            ConfigError: ``name`` is not a registered setting.
        """
        known_setting(name)
        return self.values[name].value

    def source(self, name: str) -> Source:
        """Return where the named setting's value came from: ``"default"`` or ``"override"``."""
        known_setting(name)
        return self.values[name].source

    def _get(self, name: str, kind: type[_T]) -> _T:
        # values were validated against the registry on construction; the check keeps the
        # typed properties honest should the registry and a property's type ever disagree
        value = self.values[name].value
        if not isinstance(value, kind):
            raise TypeError(f"setting {name!r} holds {type(value).__name__}, not {kind.__name__}")
        return value

    @property
    def allow_user_sync(self) -> bool:
        """Whether the "User uses Cloud App" relationship may be synced."""
        return self._get("allow_user_sync", bool)

    @property
    def max_risk_score(self) -> int:
        """Apps with a risk score above this are not synced (10 syncs every app)."""
        return self._get("max_risk_score", int)

    @property
    def report_time_frame(self) -> int:
        """How many days of discovery data a job reads (7, 30 or 90)."""
        return self._get("report_time_frame", int)

    @property
    def app_scope(self) -> str:
        """Which apps are synced by sanction state (``"all"`` by default)."""
        return self._get("app_scope", str)

    @property
    def grace_runs(self) -> int:
        """Consecutive missed runs before an app is retired or a link removed."""
        return self._get("grace_runs", int)

    @property
    def grace_days(self) -> int:
        """How many days an app or link must also have been missing (0 turns it off)."""
        return self._get("grace_days", int)

    @property
    def max_retire_percent(self) -> float:
        """The guard's limit on the share of managed apps one run may retire."""
        return self._get("max_retire_percent", float)

    @property
    def max_unlink_percent(self) -> float:
        """The guard's limit on the share of managed links one run may remove."""
        return self._get("max_unlink_percent", float)

    @property
    def heartbeat_hours(self) -> int:
        """How old ``last_discovered`` may get before a run refreshes it."""
        return self._get("heartbeat_hours", int)

    @property
    def overridden(self) -> tuple[str, ...]:
        """The names whose value comes from a ticked override."""
        return tuple(name for name, item in self.values.items() if item.source == "override")
