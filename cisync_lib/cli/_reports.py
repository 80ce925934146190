"""The state folder's ``reports/``: one file per run, a small ``last.json`` pointer, retention."""

from __future__ import annotations

import json
import logging
import re
from datetime import timezone
from pathlib import Path

from cisync_lib.files import write_atomic
from cisync_lib.sync import SyncReport

__all__ = ["LAST_FORMAT", "save_run_report"]

logger = logging.getLogger(__name__)

#: the ``format`` of ``reports/last.json``: a pointer with a summary, not a second copy
LAST_FORMAT = "cisync-last-report"

#: the run reports retention applies to (``20261206T034559Z-apply.json``, ``...Z-2-plan.json``)
_LISTS = ("actions", "unmatched")

_RUN_REPORT = re.compile(r"^\d{8}T\d{6}Z(-\d+)?-[a-z_]+\.json$")


def save_run_report(folder: Path, report: SyncReport, *, keep: int = 30) -> Path:
    """Save ``report`` in ``folder``, point ``last.json`` at it, keep the newest ``keep``.

    ``last.json`` holds the file name of the latest report and its summary
    (outcome, counts, writes), so an alert can read it without a second full copy;
    :meth:`SyncReport.load` and ``cisync show`` follow it.
    """
    stamp = report.finished_at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = folder / f"{stamp}-{report.mode}.json"
    n = 1
    while target.exists():  # two runs in one second keep both reports
        n += 1
        target = folder / f"{stamp}-{n}-{report.mode}.json"
    saved = report.save(target)
    # everything but the long lists (every planned change, every unmatched identifier)
    summary = {k: v for k, v in report.to_dict().items() if k not in (*_LISTS, "format")}
    pointer = {"format": LAST_FORMAT, "latest": saved.name, **summary}
    pointer["changes"], pointer["writes"] = report.changes, report.writes
    write_atomic(folder / "last.json", json.dumps(pointer, indent=2) + "\n")
    _prune(folder, keep)
    return saved


def _prune(folder: Path, keep: int) -> None:
    runs = sorted(p for p in folder.iterdir() if _RUN_REPORT.match(p.name))
    for old in runs[: max(len(runs) - max(keep, 1), 0)]:
        try:
            old.unlink()
        except OSError as exc:  # retention is housekeeping: never fail a run for it
            logger.warning("old report %s not deleted: %s", old, exc)
