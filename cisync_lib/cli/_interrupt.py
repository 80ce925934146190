"""Ctrl-C during a run: stop promptly, and say truthfully what reached the instance.

While writes are in flight the first Ctrl-C lets the current batch finish (its
answer tells what it did) and stops before the next one; a second Ctrl-C stops
at once. Whatever the phase, the command then re-reads the plan's records to
count the writes the instance shows, prints "N of M changes written" (or
"nothing written"), saves an ``interrupted`` report and exits 130.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from cisync_lib.cmdb import count_written
from cisync_lib.errors import CisyncError

from ._approve import ask_approval, check_approval_possible, needs_approval
from ._common import command_line

if TYPE_CHECKING:
    from cisync_lib.cmdb import Plan
    from cisync_lib.sync import SyncJob, SyncReport

__all__ = ["Interrupted", "WriteSession"]

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, "int | None"], None]

#: report action keys for the kinds :func:`cisync_lib.cmdb.count_written` counts
_KIND_KEYS = {
    "vendor": "create_vendor",
    "create": "create_app",
    "update": "update_app",
    "retire": "retire_app",
    "add_link": "add_link",
    "remove_link": "remove_link",
}


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, with the statement of what was written (exit 130)."""

    def __init__(self, statement: str, written: dict[str, int] | None = None) -> None:
        super().__init__(statement)
        self.statement = statement
        self.written = written or {}


class WriteSession:
    """One run of ``apply`` or ``sync``: approval before writing and Ctrl-C accounting.

    Args:
        args: the parsed options (``--yes``, ``--force``, config and environment).
        will_write: whether this run may write at all (``sync`` without ``--apply`` does not).
    """

    def __init__(self, args: argparse.Namespace, *, will_write: bool) -> None:
        self.args = args
        self.will_write = will_write
        self.job: SyncJob | None = None
        self.plan: Plan | None = None
        self.writing = False
        self.stop_requested = False
        if will_write:
            check_approval_possible(args)

    @contextmanager
    def signals(self) -> Iterator[None]:
        """Handle SIGINT as described in the module docstring (main thread only)."""
        if threading.current_thread() is not threading.main_thread():  # pragma: no cover
            yield
            return
        previous = signal.signal(signal.SIGINT, self._on_sigint)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def _on_sigint(self, _signum: int, _frame: object) -> None:
        if self.writing and not self.stop_requested:
            self.stop_requested = True
            # os.write: print() from a signal handler can re-enter a stream mid-write
            os.write(
                sys.stderr.fileno(),
                b"\ncisync: stopping after the current batch of writes "
                b"(Ctrl-C again to stop at once) ...\n",
            )
            return
        raise KeyboardInterrupt

    def watch(self, progress: Progress) -> Progress:
        """Wrap a progress callback so that a requested stop takes effect between batches."""

        def update(phase: str, done: int, total: int | None) -> None:
            progress(phase, done, total)
            if self.stop_requested and phase == "apply":
                raise KeyboardInterrupt

        return update

    def confirm(self, report: SyncReport) -> None:
        """The job's ``confirm`` hook: remember the plan, ask for approval, mark writing."""
        self.plan = report.plan
        if needs_approval(report, force=bool(getattr(self.args, "force", False))):
            ask_approval(report, self.args)
        self.writing = True

    def account(self) -> Interrupted:
        """What was written before the interrupt, read back from the instance."""
        plan, job = self.plan, self.job
        if not self.writing or plan is None or job is None or plan.write_count == 0:
            return Interrupted("nothing written")
        total = plan.write_count
        again = command_line(self.args, command="apply", keep_plan=False)
        try:
            counts = count_written(plan, job.destination.connection, job.cmdb_config)
        except (CisyncError, KeyboardInterrupt) as exc:
            logger.info("could not read back the writes after the interrupt: %s", exc)
            return Interrupted(
                f"some of {total} change(s) may have been written (they could not be read "
                f"back); run `{again}` again to finish"
            )
        written = {_KIND_KEYS[k]: v for k, v in counts.items() if v}
        done = sum(written.values())
        if done == 0:
            return Interrupted(f"nothing written (0 of {total} changes)", written)
        if done >= total:
            return Interrupted(f"{done} of {total} changes written; nothing left to do", written)
        return Interrupted(
            f"{done} of {total} changes written; run `{again}` again to finish", written
        )
