"""The settings of one source connection: overrides per environment, effective values, promotion."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

import attrs
from attrs import field, frozen

from cisync_lib.errors import ConfigError

from ._diff import SettingChange, SettingDiff, changes_between, diff_effective
from ._lines import dotted
from ._registry import SETTINGS, Environment, known_setting
from ._values import EffectiveSettings, EffectiveValue, Override

__all__ = ["ConnectionSettings", "Overrides", "settings_key"]

Overrides = Mapping[Environment, Mapping[str, Override]]


def settings_key(connection: str, environment: Environment, name: str | None = None) -> str:
    """The dotted key of a setting in the TOML file, as error messages name it."""
    parts = ("connections", connection, "settings", environment.value)
    return dotted((*parts, name) if name else parts)


def _environment(connection: str, raw: object) -> Environment:
    try:
        return Environment(raw)
    except ValueError:
        raise ConfigError(
            key=dotted(("connections", connection, "settings", str(raw))),
            problem="unknown environment",
            allowed=" | ".join(env.value for env in Environment),
        ) from None


def _freeze(connection: str, raw: Mapping[Environment, Mapping[str, Override]]) -> Overrides:
    # every environment is present (possibly empty), values are checked against
    # the registry and stored in their canonical type, and nothing stays mutable
    tables: dict[Environment, dict[str, Override]] = {env: {} for env in Environment}
    for raw_env, table in raw.items():
        env = _environment(connection, raw_env)
        for name, override in table.items():
            key = settings_key(connection, env, name)
            spec = known_setting(name, key=key)
            if not isinstance(override, Override):
                raise ConfigError(key=key, problem=f"expected an Override, got {override!r}")
            try:
                value = spec.validate(override.value)
            except ConfigError as exc:
                raise attrs.evolve(exc, key=key, message="") from None
            tables[env][name] = attrs.evolve(override, value=value)
    return MappingProxyType({env: MappingProxyType(table) for env, table in tables.items()})


@frozen(kw_only=True)
class ConnectionSettings:
    """The settings overrides of one Defender for Cloud Apps source connection.

    Each environment (TEST, PROD) may override each registered setting; an
    override counts only when its "override default" box is ticked. The
    object is immutable: the ``with_``/``without_``/``promote`` methods return
    a changed copy, and nothing is saved until
    :meth:`SettingsFile.save` is given the copy and a :class:`Consent`.

    Attributes:
        connection: the connection's name (the ``<name>`` in ``[connections.<name>]``).
        overrides: per environment, the stored overrides by setting name,
            ticked or not. Every environment is present, possibly empty.
    """

    connection: str = field(validator=attrs.validators.min_len(1))
    overrides: Overrides = field(factory=dict)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "overrides", _freeze(self.connection, self.overrides))

    def effective(self, environment: Environment | str) -> EffectiveSettings:
        """The values a sync job in ``environment`` uses, each with where it came from.

        A ticked override supplies its value (source ``"override"``); an
        unticked or missing one leaves the product default (source ``"default"``).
        """
        env = _environment(self.connection, environment)
        table = self.overrides[env]
        values = {}
        for name, spec in SETTINGS.items():
            override = table.get(name)
            if override is not None and override.enabled:
                values[name] = EffectiveValue(name=name, value=override.value, source="override")
            else:
                values[name] = EffectiveValue(name=name, value=spec.default, source="default")
        return EffectiveSettings(environment=env, values=values)

    def with_override(
        self, environment: Environment | str, name: str, value: object, *, enabled: bool = True
    ) -> ConnectionSettings:
        """Return a copy with one setting overridden in one environment.

        Args:
            environment: TEST or PROD.
            name: a registered setting.
            value: the slider value; checked against the setting's rules.
            enabled: the "Override default" tick box; ``False`` stores the
                value without it taking effect.

        Raises:
            ConfigError: unknown environment or setting, or a value not allowed.
        """
        env = _environment(self.connection, environment)
        return self._replace(env, name, Override(enabled=enabled, value=value))

    def without_override(self, environment: Environment | str, name: str) -> ConnectionSettings:
        """Return a copy where ``name`` takes its product default in ``environment``."""
        env = _environment(self.connection, environment)
        return self._replace(env, name, None)

    def _replace(
        self, env: Environment, name: str, override: Override | None
    ) -> ConnectionSettings:
        known_setting(name, key=settings_key(self.connection, env, name))
        table = dict(self.overrides[env])
        if override is None:
            table.pop(name, None)
        else:
            table[name] = override
        return attrs.evolve(self, overrides={**self.overrides, env: table})

    def diff(
        self,
        a: Environment | str = Environment.TEST,
        b: Environment | str = Environment.PROD,
        *,
        only_differences: bool = True,
    ) -> tuple[SettingDiff, ...]:
        """Compare what jobs in two environments would use, setting by setting.

        Args:
            a: the first environment (TEST by default).
            b: the second environment (PROD by default).
            only_differences: leave out settings whose effective value and
                source are the same on both sides; ``False`` lists every setting.
        """
        env_a, env_b = _environment(self.connection, a), _environment(self.connection, b)
        return diff_effective(
            self.effective(env_a),
            self.effective(env_b),
            self.overrides[env_a],
            self.overrides[env_b],
            only_differences=only_differences,
        )

    def promote(self, keys: Iterable[str] | None = None) -> ConnectionSettings:
        """Return a copy where PROD takes TEST's overrides, for all settings or the named ones.

        For each promoted setting, PROD gets exactly TEST's stored override,
        tick box and value; a setting TEST does not override goes back to its
        default in PROD. Unlike the product (all or nothing), ``keys`` can
        name the settings to promote. Saving the result needs consent like
        any other change.

        Raises:
            ConfigError: a name in ``keys`` is not a registered setting.
        """
        if isinstance(keys, str):
            keys = (keys,)  # one setting named on its own, not its letters
        names = tuple(SETTINGS) if keys is None else tuple(keys)
        unknown = [name for name in names if name not in SETTINGS]
        if unknown:
            raise ConfigError(
                key=", ".join(unknown),
                problem="cannot promote: unknown setting",
                allowed=", ".join(SETTINGS),
            )
        test = self.overrides[Environment.TEST]
        prod = {
            name: o for name, o in self.overrides[Environment.PROD].items() if name not in names
        }
        prod.update({name: test[name] for name in names if name in test})
        return attrs.evolve(self, overrides={**self.overrides, Environment.PROD: prod})

    def changes_from(self, before: ConnectionSettings) -> tuple[SettingChange, ...]:
        """List the stored overrides that differ from ``before`` (what a save would record)."""
        return changes_between(before.overrides, self.overrides)
