"""Resolve Defender user identifiers to ServiceNow ``sys_user`` records, explaining every miss."""

from ._codes import InputKind, ReasonCode, Status

__all__ = ["InputKind", "ReasonCode", "Status"]
