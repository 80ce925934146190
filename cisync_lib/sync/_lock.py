"""One writer per destination and state folder: an OS-level lock around plan-and-apply."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

from cisync_lib.errors import ConfigError, JobLockedError

__all__ = ["LOCK_FILE", "job_lock"]

logger = logging.getLogger(__name__)

LOCK_FILE = "apply.lock"


@contextmanager
def job_lock(state_dir: Path | None, *, destination: str, wait: float) -> Iterator[None]:
    """Hold the state folder's write lock for the duration of the block.

    The lock is an operating-system lock (``flock``/``LockFileEx`` through
    :mod:`filelock`) on ``<state folder>/apply.lock``: the system releases it
    when the holding process ends, even by ``kill -9``, so a crash never
    leaves a stale lock behind. A job without a state folder keeps its run
    state in memory and takes no lock.

    Args:
        state_dir: the job's state folder (``None``: no lock).
        destination: the destination's name, for the message.
        wait: seconds to wait for another run to finish before refusing.

    Raises:
        JobLockedError: another run held the lock for longer than ``wait``; nothing written.
        ConfigError: the state folder cannot be created or written.
    """
    if state_dir is None:
        yield
        return
    path = state_dir / LOCK_FILE
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(path, timeout=wait)
        lock.acquire()
    except filelock.Timeout:
        raise JobLockedError(lock_file=str(path), destination=destination, waited=wait) from None
    except OSError as exc:
        raise ConfigError(
            file=str(state_dir),
            key="sync.state_dir",
            problem=f"cannot use the state folder ({exc.strerror or exc}); nothing was written",
        ) from exc
    logger.debug("holding %s", path)
    try:
        yield
    finally:
        lock.release()
