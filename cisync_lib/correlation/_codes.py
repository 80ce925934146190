"""Stable codes of correlation results: input kinds, statuses and reasons.

These values appear in reports, JSON and CSV files and in the ground truth of
the sandbox's generated tenants; they never change meaning.
"""

from __future__ import annotations

import enum

__all__ = ["InputKind", "ReasonCode", "Status"]


class InputKind(str, enum.Enum):
    """What a raw Defender user identifier looks like."""

    EMAIL_LIKE = "EMAIL_LIKE"
    DOWNLEVEL = "DOWNLEVEL"
    LOCAL_ACCOUNT = "LOCAL_ACCOUNT"
    BARE = "BARE"
    ANONYMIZED = "ANONYMIZED"
    EMPTY = "EMPTY"
    UNPARSEABLE = "UNPARSEABLE"


class Status(str, enum.Enum):
    """The outcome of resolving one identifier."""

    MATCHED = "MATCHED"
    AMBIGUOUS = "AMBIGUOUS"
    UNMATCHED = "UNMATCHED"
    SKIPPED = "SKIPPED"
    ERROR = "ERROR"


class ReasonCode(str, enum.Enum):
    """Why an identifier got its status; every result carries exactly one."""

    MATCHED = "MATCHED"
    MATCHED_INACTIVE = "MATCHED_INACTIVE"
    EMPTY_INPUT = "EMPTY_INPUT"
    UNPARSEABLE = "UNPARSEABLE"
    ANONYMIZED = "ANONYMIZED"
    LOCAL_ACCOUNT = "LOCAL_ACCOUNT"
    DOMAIN_NOT_ALLOWED = "DOMAIN_NOT_ALLOWED"
    NO_CANDIDATE = "NO_CANDIDATE"
    ONLY_INACTIVE_MATCH = "ONLY_INACTIVE_MATCH"
    AMBIGUOUS_DUPLICATE = "AMBIGUOUS_DUPLICATE"
    KEY_CONFLICT = "KEY_CONFLICT"
    EXCLUDED_ONLY = "EXCLUDED_ONLY"
    BELOW_THRESHOLD = "BELOW_THRESHOLD"
    IGNORED_BY_ALIAS = "IGNORED_BY_ALIAS"
    ALIAS_TARGET_NOT_FOUND = "ALIAS_TARGET_NOT_FOUND"
    ALIAS_TARGET_AMBIGUOUS = "ALIAS_TARGET_AMBIGUOUS"
    LOOKUP_ERROR = "LOOKUP_ERROR"
    #: a lookup value that cannot go into an encoded query safely and no snapshot was read
    UNSAFE_QUERY_VALUE = "UNSAFE_QUERY_VALUE"
