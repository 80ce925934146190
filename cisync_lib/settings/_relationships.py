"""Which relationships a sync job may select, given the effective settings."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping

from cisync_lib.errors import ConfigError, RelationshipNotAvailableError

from ._values import EffectiveSettings

__all__ = ["RelationshipKind", "available_relationships", "check_relationships"]


class RelationshipKind(str, enum.Enum):
    """The relationships a Defender for Cloud Apps sync job can select (the Run UI's step 3)."""

    APP_CI = "Cloud App"
    """The Business Application CI itself; always available."""
    USER_USES_APP = "User uses Cloud App"
    """Many-to-many links from each app to its users; needs ``allow_user_sync``."""


# the boolean setting that must be effectively on for each kind; kinds not
# listed are always available
_REQUIRES: Mapping[RelationshipKind, str] = {RelationshipKind.USER_USES_APP: "allow_user_sync"}


def available_relationships(effective: EffectiveSettings) -> tuple[RelationshipKind, ...]:
    """The relationship kinds a job with these effective settings may select.

    "Cloud App" always; "User uses Cloud App" only while ``allow_user_sync``
    is effectively on.
    """
    return tuple(
        kind for kind in RelationshipKind if kind not in _REQUIRES or effective[_REQUIRES[kind]]
    )


def _kind(value: RelationshipKind | str) -> RelationshipKind:
    try:
        return RelationshipKind(value)
    except ValueError:
        raise ConfigError(
            key="relationships",
            problem=f"unknown relationship {value!r}",
            allowed=" | ".join(f'"{kind.value}"' for kind in RelationshipKind),
        ) from None


def check_relationships(
    selected: Iterable[RelationshipKind | str], effective: EffectiveSettings, *, connection: str
) -> None:
    """Refuse a job definition that selects a relationship its settings do not make available.

    Args:
        selected: the relationship kinds (or their names) the job selects.
        effective: the effective settings of the job's connection and environment.
        connection: the source connection's name, for the message.

    Raises:
        RelationshipNotAvailableError: a selected kind is not available; the
            error names the setting to turn on, the environment and the connection.
        ConfigError: a selected name is not a relationship kind.
    """
    available = available_relationships(effective)
    for kind in map(_kind, selected):
        if kind not in available:
            raise RelationshipNotAvailableError(
                relationship=kind.value,
                setting=_REQUIRES[kind],
                environment=effective.environment.value,
                connection=connection,
            )
