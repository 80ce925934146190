"""Atomic file replacement: readers see the old file or the new one, never a half-written one."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

__all__ = ["PRIVATE", "write_atomic"]

#: the mode of files holding people's identifiers or secrets (reports, plans, unmatched
#: lists, snapshots, token caches): readable by their owner only
PRIVATE = 0o600


def _fsync_directory(directory: Path) -> None:
    # the rename is durable only once the directory entry is on disk; Windows
    # cannot open a directory this way and does not need it
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike[str], text: str, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically.

    Every file cisync_lib saves (settings, snapshots, token caches, run state,
    plans, reports) goes through here, so a crash never leaves half a file.

    The text goes to a temporary file in the same directory (same file
    system, so the final ``os.replace()`` is atomic), is flushed and
    fsynced, then renamed over the target. On any failure the temporary file
    is removed and the original is untouched. A symbolic link is followed, so
    the file it points to is replaced and the link stays.

    Args:
        path: the file to replace or create.
        text: its new content.
        mode: the permission bits to give the file (``0o600`` for files holding
            user identifiers or tokens); by default an existing file keeps its
            mode and a new one gets the usual ``0o666`` minus the umask.

    Raises:
        OSError: the file could not be written; the original is unchanged.
    """
    target = Path(os.path.realpath(path))
    if mode is None:
        try:
            mode = target.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = None
    temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    # a new file gets 0o666 minus the umask, as an ordinary open() would give it;
    # a private one is private from its first byte
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            if mode is not None:
                os.chmod(temp, mode)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_directory(target.parent)
