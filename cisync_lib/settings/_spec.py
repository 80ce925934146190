"""What one setting is: its type, default and rules (:class:`SettingSpec`), and environments."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from attrs import frozen

from cisync_lib.errors import ConfigError

__all__ = ["Environment", "SettingSpec", "describe_found", "render_value"]


class Environment(str, enum.Enum):
    """The tag of a destination ServiceNow instance; each has its own settings overrides."""

    TEST = "test"
    PROD = "prod"


_TYPE_NAMES: Mapping[type, str] = {bool: "boolean", int: "integer", float: "number", str: "string"}
_FOUND_NAMES: Mapping[type, str] = {
    **_TYPE_NAMES,
    dict: "table",
    list: "array",
    datetime: "date-time",
    date: "date",
    time: "time",
}


def render_value(value: object) -> str:
    """Write a setting value the way it appears in the TOML file (``true``, ``4``, ``"all"``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe_found(value: object) -> str:
    """Name a found value for an error message: ``integer 11``, ``string "x"``, ``table``.

    Args:
        value: a value read from a TOML file.

    Returns:
        Its TOML kind and, for a scalar, the value as the file writes it.
    """
    kind = _FOUND_NAMES.get(type(value), type(value).__name__)
    if isinstance(value, float):
        return f"{kind} {value!r}"  # 4.0, not 4: the point is why an integer was refused
    return f"{kind} {render_value(value)}" if type(value) in _TYPE_NAMES else kind


@frozen(kw_only=True)
class SettingSpec:
    """One named connection setting with its product default and what it accepts.

    Attributes:
        name: the key in the TOML file and in :class:`EffectiveSettings`.
        title: the label the product shows next to the slider or box.
        type: ``bool``, ``int``, ``float`` or ``str``; an ``int`` is accepted
            for a ``float`` setting, ``bool`` never counts as a number.
        default: the product default, used unless an override is ticked.
        minimum: the smallest number accepted, if bounded below.
        maximum: the largest number accepted, if bounded above.
        choices: the only values accepted, if the setting is a choice.
        doc: what the setting does and what its default means, for users.
        needs_consent: a job may run with a non-default value only when the
            connection's consent log records, for that environment, the change
            that set it (hand-editing the file does not count).
    """

    name: str
    title: str
    type: type
    default: Any
    doc: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] = ()
    needs_consent: bool = False

    def __attrs_post_init__(self) -> None:
        # a registry entry whose default fails its own rules is a programming error
        self.validate(self.default)

    @property
    def allowed(self) -> str:
        """What the setting accepts, as it is shown in error messages.

        ``true | false``, ``7 | 30 | 90``, ``integer 0..10``, ``integer >= 0``,
        ``number 0..100`` or ``"all" | "sanctioned"``.
        """
        if self.type is bool:
            return "true | false"
        if self.choices:
            return " | ".join(render_value(choice) for choice in self.choices)
        kind = _TYPE_NAMES[self.type]
        low, high = (
            render_value(b) if b is not None else None for b in (self.minimum, self.maximum)
        )
        if low is not None and high is not None:
            return f"{kind} {low}..{high}"
        if low is not None:
            return f"{kind} >= {low}"
        if high is not None:
            return f"{kind} <= {high}"
        return kind

    def validate(self, value: object) -> Any:
        """Check a value for this setting and return it in its canonical type.

        Args:
            value: the value from a file or from code.

        Returns:
            The value; an ``int`` given for a ``float`` setting becomes a ``float``.

        Raises:
            ConfigError: the type is wrong or the value is not allowed; ``key``
                and ``file`` are left for the caller to fill in.
        """
        ok_type = type(value) is self.type or (self.type is float and type(value) is int)
        if not ok_type:
            expected = _TYPE_NAMES[self.type]
            raise ConfigError(
                problem=f"expected {expected}, got {describe_found(value)}", allowed=self.allowed
            )
        if self.type is float and isinstance(value, (int, float)):
            value = float(value)
            if not math.isfinite(value):
                raise ConfigError(problem=f"{value} is not a finite number", allowed=self.allowed)
        if self.choices and value not in self.choices:
            raise ConfigError(
                problem=f"{render_value(value)} is not one of the allowed values",
                allowed=self.allowed,
            )
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            below = self.minimum is not None and value < self.minimum
            above = self.maximum is not None and value > self.maximum
            if below or above:
                raise ConfigError(
                    problem=f"{render_value(value)} is out of range", allowed=self.allowed
                )
        return value
