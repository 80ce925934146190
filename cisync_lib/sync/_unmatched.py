"""A sync report's unmatched users as an alias-map seed: the unmatched report's CSV columns."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from cisync_lib.correlation import REPORT_FIELDNAMES

if TYPE_CHECKING:
    from ._report import UnmatchedUser

__all__ = ["write_unmatched_csv"]

# spreadsheet programs run a cell starting with these as a formula (CSV injection);
# the alias-map loader strips the guarding quote again
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_unmatched_csv(users: Iterable[UnmatchedUser], path: str | os.PathLike[str]) -> Path:
    """Write one row per unmatched identifier with blank alias-map columns.

    Fill in ``action``, ``target_field`` and ``target_value`` and the file is
    an alias map (:meth:`cisync_lib.correlation.AliasMap.load`, or
    ``correlation.alias_map`` in the deployment config).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=REPORT_FIELDNAMES)
        writer.writeheader()
        for user in users:
            row = dict.fromkeys(REPORT_FIELDNAMES, "")
            row.update(
                normalized=user.identifier,
                raw_examples="; ".join(user.raw_examples),
                occurrences=str(user.occurrences),
                status=user.status,
                reason_code=user.reason,
                message=user.message,
                suggestion=user.suggestion,
                app="; ".join(user.apps),
            )
            writer.writerow({k: _cell(v) for k, v in row.items()})
    return target
