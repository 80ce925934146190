"""A sync report's unmatched users as an alias-map seed: the unmatched report's CSV columns."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from cisync_lib.correlation import write_report_csv

if TYPE_CHECKING:
    from ._report import UnmatchedUser

__all__ = ["write_unmatched_csv"]


def write_unmatched_csv(users: Iterable[UnmatchedUser], path: str | os.PathLike[str]) -> Path:
    """Write one row per unmatched identifier with blank alias-map columns.

    Fill in ``action``, ``target_field`` and ``target_value`` and the file is
    an alias map (:meth:`cisync_lib.correlation.AliasMap.load`, or
    ``correlation.alias_map`` in the deployment config).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    rows = (
        {
            "normalized": user.identifier,
            "raw_examples": "; ".join(user.raw_examples),
            "occurrences": str(user.occurrences),
            "status": user.status,
            "reason_code": user.reason,
            "message": user.message,
            "suggestion": user.suggestion,
            "app": "; ".join(user.apps),
        }
        for user in users
    )
    write_report_csv(rows, target)
    return target
