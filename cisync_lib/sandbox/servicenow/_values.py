"""ServiceNow's value conventions: every value is a string, empty is ``""``."""

from __future__ import annotations

import hashlib
import json
import re

from cisync_lib import SandboxError

from ._schema import Column

__all__ = ["GIVEN_SYS_ID", "SYS_ID", "RecordExistsError", "normalize", "stable_id", "to_text"]

#: a sys_id as an instance generates it: 32 lowercase hexadecimal characters.
SYS_ID = re.compile(r"[0-9a-f]{32}")
#: a sys_id a caller may give (stored exactly as given): up to 32 characters that
#: survive a URL path segment (no whitespace, ``/``, ``?``, ``#``, ``%`` or ``\``).
GIVEN_SYS_ID = re.compile(r"[^\s/?#%\\]{1,32}")


def stable_id(*key: str) -> str:
    """A sys_id derived from a natural key (same on every run, so no duplicates pile up)."""
    return hashlib.md5(":".join(key).encode(), usedforsecurity=False).hexdigest()


class RecordExistsError(SandboxError):
    """An insert named a sys_id that is already taken."""


def to_text(value: object) -> str:
    """ServiceNow's string form of a JSON value (null becomes ``""``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join(to_text(v) for v in value)
    if isinstance(value, dict):
        if "value" in value:  # a {value, display_value} object sent back as it was read
            return to_text(value["value"])
        return json.dumps(value)
    return str(value)


def normalize(value: object, column: Column) -> str:
    """The string a column stores for a JSON value."""
    text = to_text(value)
    if column.type == "boolean":
        return "true" if text.strip().lower() in ("true", "1") else "false"
    if column.type == "reference" and SYS_ID.fullmatch(text.lower()):
        return text.lower()
    if column.type == "string" and len(text) > column.max_length:
        return text[: column.max_length]  # the database column truncates silently
    return text
