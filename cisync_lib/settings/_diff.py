"""Comparing settings: TEST against PROD, and a connection before and after a change."""

from __future__ import annotations

from collections.abc import Mapping

from attrs import frozen

from ._registry import SETTINGS, Environment, render_value
from ._values import EffectiveSettings, EffectiveValue, Override

__all__ = ["SettingChange", "SettingDiff", "changes_between", "describe_state", "diff_effective"]


def describe_state(name: str, override: Override | None) -> str:
    """Describe one setting's stored state the way the consent log records it.

    ``default 10``, ``override 4``, or ``default 10 (unticked override 4)``
    when the slider was moved but the box left unticked.
    """
    default = render_value(SETTINGS[name].default)
    if override is None:
        return f"default {default}"
    if override.enabled:
        return f"override {render_value(override.value)}"
    return f"default {default} (unticked override {render_value(override.value)})"


@frozen(kw_only=True)
class SettingChange:
    """One setting of one environment changed by an edit or a promotion.

    Attributes:
        environment: where the setting changed.
        name: the setting.
        old: the stored override before (``None``: none, the default applied).
        new: the stored override after.
    """

    environment: Environment
    name: str
    old: Override | None
    new: Override | None

    def describe(self) -> str:
        """One line for the consent log: ``allow_user_sync: default false -> override true``."""
        return f"{self.name}: {describe_state(self.name, self.old)} -> " + describe_state(
            self.name, self.new
        )

    def __str__(self) -> str:
        return f"{self.environment.value}: {self.describe()}"


@frozen(kw_only=True)
class SettingDiff:
    """One setting compared between two environments.

    Attributes:
        name: the setting.
        a_environment: the first environment (TEST by default).
        b_environment: the second environment (PROD by default).
        a: the effective value and its source in ``a_environment``.
        b: the effective value and its source in ``b_environment``.
        a_override: the stored override in ``a_environment``, ticked or not.
        b_override: the stored override in ``b_environment``, ticked or not.
    """

    name: str
    a_environment: Environment
    b_environment: Environment
    a: EffectiveValue
    b: EffectiveValue
    a_override: Override | None
    b_override: Override | None

    @property
    def differs(self) -> bool:
        """Whether jobs in the two environments see a different value or source."""
        return (self.a.value, self.a.source) != (self.b.value, self.b.source)

    def describe(self) -> str:
        """One line, e.g. ``max_risk_score: test 4 (override) | prod 10 (default)``."""
        sides = (
            f"{env.value} {item.describe()}"
            for env, item in ((self.a_environment, self.a), (self.b_environment, self.b))
        )
        return f"{self.name}: " + " | ".join(sides)

    def __str__(self) -> str:
        return self.describe()


def diff_effective(
    a: EffectiveSettings,
    b: EffectiveSettings,
    a_overrides: Mapping[str, Override],
    b_overrides: Mapping[str, Override],
    *,
    only_differences: bool,
) -> tuple[SettingDiff, ...]:
    """Compare two environments setting by setting, in registry order."""
    rows = (
        SettingDiff(
            name=name,
            a_environment=a.environment,
            b_environment=b.environment,
            a=a.values[name],
            b=b.values[name],
            a_override=a_overrides.get(name),
            b_override=b_overrides.get(name),
        )
        for name in SETTINGS
    )
    return tuple(row for row in rows if row.differs or not only_differences)


def changes_between(
    before: Mapping[Environment, Mapping[str, Override]],
    after: Mapping[Environment, Mapping[str, Override]],
) -> tuple[SettingChange, ...]:
    """List every stored override that differs, environment by environment."""
    found = []
    for env in Environment:
        old_table, new_table = before.get(env, {}), after.get(env, {})
        for name in SETTINGS:
            old, new = old_table.get(name), new_table.get(name)
            if old != new:
                found.append(SettingChange(environment=env, name=name, old=old, new=new))
    return tuple(found)
