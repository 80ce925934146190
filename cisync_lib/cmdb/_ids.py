"""Deterministic sys_ids for the records the library inserts.

A record's sys_id is derived from its natural key, so an insert that is
repeated (after a timeout, a crash, or by a second process) can never create
a second record: the instance refuses an insert on an existing sys_id.
"""

from __future__ import annotations

import hashlib

__all__ = ["record_sys_id"]


def record_sys_id(table: str, *key: str) -> str:
    """A 32-hex-digit sys_id for the record of ``table`` with natural ``key``."""
    text = "\x1f".join((table, *key)).encode()
    return hashlib.blake2b(text, digest_size=16, person=b"cisync-sys_id").hexdigest()
