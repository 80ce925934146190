"""Atomic, private file writes for snapshots and the token cache."""

from __future__ import annotations

import contextlib
import os
import tempfile

__all__ = ["atomic_write_text"]


def atomic_write_text(path: str | os.PathLike[str], text: str, *, mode: int = 0o600) -> None:
    """Write ``text`` to ``path`` so readers see the old file or the new one, never half.

    The file is created with ``mode`` (owner-only by default: snapshots hold
    user identifiers, token caches hold tokens) in the same folder, flushed to
    disk, then renamed over the target.
    """
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=folder)
    try:
        os.chmod(tmp, mode)  # mkstemp makes 0600; honour another mode if asked
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
