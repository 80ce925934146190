"""The interface every Defender source offers (Graph, legacy, snapshot)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ._data import DefenderData, ProgressCallback

__all__ = ["DefenderSource"]


class DefenderSource(Protocol):
    """Anything that can produce a complete :class:`DefenderData`.

    :class:`GraphSource`, :class:`LegacySource` and :class:`SnapshotSource`
    implement it; a test double or another backend can too.
    """

    kind: str

    def read(
        self,
        *,
        period: str | int = ...,
        max_risk_score: int = ...,
        streams: Sequence[str] | None = ...,
        include_users: bool = ...,
        include_devices: bool = ...,
        include_app_info: bool = ...,
        progress: ProgressCallback | None = ...,
    ) -> DefenderData:
        """Read everything asked for, or raise; never return part of it."""
