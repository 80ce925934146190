"""Grace-period bookkeeping: how many observing runs missed each app or link, in a JSON file.

What counts as a miss: only a run whose source read was complete and not
empty (and, for a link, whose users were all looked up) *observes* an item.
Each such run that did not see it adds one to the item's ``misses``; runs that
observed nothing (empty or failed reads, failed lookups) carry the count
unchanged, and runs that never commit (guard refusals, failures, dry runs)
leave no trace. So a weekend of empty reads never shortens a grace period.

Why this survives a crash:

* The file is replaced atomically (temporary file, fsync, rename, fsync of
  the folder): a reader sees the old or the new content, never half of it.
* Misses are counted only when committed: the planner tags the miss it adds
  with the number of the run in progress (``last_run = completed_runs + 1``);
  apply writes that *pending* state before its first write and bumps
  ``completed_runs`` only after the last one. A miss tagged with a run that
  never committed is not counted (:meth:`MissEntry.committed_misses`), so
  re-running after a crash never shortens a grace period.
* Writing before apply means "first missed" timestamps are never lost, even
  when the process dies during apply; losing the file entirely only restarts
  every grace period (items are removed later, never earlier).

The file is a saved document (:mod:`cisync_lib._documents`): format
``cisync-cmdb-run-state``, version 2. Version 1 files (``[first missed at,
first missed run]`` per item, no format marker) still load: their count is
taken as every run committed since the first miss.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import attrs
from attrs import field, frozen

from cisync_lib._documents import DocumentKind, format_timestamp, parse_timestamp
from cisync_lib.errors import DocumentError

from ._state import FieldLimits

__all__ = ["MissEntry", "RunState", "RunStateStore"]

#: the run-state file: version 2 counts misses; version 1 (no format marker) still loads.
#: It names no person (app ids, sys_ids), so it keeps the folder's usual mode.
RUN_STATE_DOCUMENT = DocumentKind(
    name="run state",
    format="cisync-cmdb-run-state",
    version=2,
    oldest=1,
    marker_optional=True,
    private=False,
)


@frozen(kw_only=True)
class MissEntry:
    """How often an item was missed by runs that observed it.

    Attributes:
        first_missed_at: the time of the first run that missed it (UTC).
        misses: observing runs that missed it in a row, the one numbered
            ``last_run`` included (which may not have committed yet).
        last_run: the number of the run that counted the latest miss.
    """

    first_missed_at: datetime
    misses: int = 1
    last_run: int = 0

    def committed_misses(self, completed_runs: int) -> int:
        """Misses counted by committed runs (a miss of an uncommitted run is dropped)."""
        return self.misses - 1 if self.last_run > completed_runs else self.misses

    def missed_again(self, run: int, completed_runs: int) -> MissEntry:
        """The entry after run ``run`` (complete, observing) missed the item once more."""
        return MissEntry(
            first_missed_at=self.first_missed_at,
            misses=self.committed_misses(completed_runs) + 1,
            last_run=run,
        )

    def carried(self, completed_runs: int) -> MissEntry:
        """The entry after a run that did not observe the item: committed misses only."""
        if self.last_run <= completed_runs:
            return self
        return MissEntry(
            first_missed_at=self.first_missed_at,
            misses=self.misses - 1,
            last_run=completed_runs,
        )

    @classmethod
    def first(cls, now: datetime, run: int) -> MissEntry:
        """The entry of an item first missed by run ``run`` (complete, observing)."""
        return cls(first_missed_at=now, misses=1, last_run=run)

    @classmethod
    def missed(
        cls, entry: MissEntry | None, now: datetime, run: int, completed_runs: int
    ) -> MissEntry:
        """The entry of an item run ``run`` (complete, observing) missed: first or again.

        Args:
            entry: the item's entry so far (``None``: not missed before).
            now: when the run started.
            run: the run's number.
            completed_runs: the runs committed before it.
        """
        return entry.missed_again(run, completed_runs) if entry is not None else cls.first(now, run)


@frozen(kw_only=True)
class RunState:
    """The state a job keeps between runs.

    Attributes:
        completed_runs: runs whose apply finished.
        integration_user: the account our inserts were made as (learnt from them).
        missing_apps: app id -> its misses.
        missing_links: ``"<ci>:<user>"`` -> the link's misses.
        field_limits: the column lengths last read from ``sys_dictionary``, used
            when a run cannot read them.
    """

    completed_runs: int = 0
    integration_user: str | None = None
    missing_apps: Mapping[str, MissEntry] = field(factory=dict)
    missing_links: Mapping[str, MissEntry] = field(factory=dict)
    field_limits: FieldLimits | None = None

    @property
    def current_run(self) -> int:
        """The number of the run being planned now."""
        return self.completed_runs + 1

    def committed(self, integration_user: str | None = None) -> RunState:
        """The state after this run's apply finished."""
        return attrs.evolve(
            self,
            completed_runs=self.completed_runs + 1,
            integration_user=integration_user or self.integration_user,
        )

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict."""

        def entries(m: Mapping[str, MissEntry]) -> dict[str, dict[str, object]]:
            return {
                k: {
                    "first_missed_at": format_timestamp(e.first_missed_at),
                    "misses": e.misses,
                    "last_run": e.last_run,
                }
                for k, e in sorted(m.items())
            }

        return {
            **RUN_STATE_DOCUMENT.header(),
            "completed_runs": self.completed_runs,
            "integration_user": self.integration_user,
            "missing_apps": entries(self.missing_apps),
            "missing_links": entries(self.missing_links),
            **({"field_limits": self.field_limits.to_json()} if self.field_limits else {}),
        }

    @classmethod
    def from_json(cls, data: object, *, source: str = "<run state>") -> RunState:
        """Read :meth:`to_json` output (and version 1 files).

        Raises:
            DocumentError: naming the file and the JSON path, for anything malformed.
        """

        def bad(json_path: str, problem: str) -> DocumentError:
            return RUN_STATE_DOCUMENT.fail(source, problem, json_path)

        version = RUN_STATE_DOCUMENT.check(data, source=source)
        assert isinstance(data, Mapping)  # checked above
        runs = data.get("completed_runs", 0)
        if not isinstance(runs, int) or isinstance(runs, bool) or runs < 0:
            raise bad("$.completed_runs", "expected a non-negative integer")

        def entries(key: str) -> dict[str, MissEntry]:
            raw = data.get(key, {})
            if not isinstance(raw, Mapping):
                raise bad(f"$.{key}", "expected an object")
            out = {}
            for item, value in raw.items():
                try:
                    out[str(item)] = _entry(value, version, runs)
                except (TypeError, ValueError, KeyError) as exc:
                    expected = (
                        "[timestamp, run]"
                        if version == 1
                        else '{"first_missed_at", "misses", "last_run"}'
                    )
                    raise bad(
                        f"$.{key}[{str(item)!r}]", f"expected {expected}, got {value!r}"
                    ) from exc
            return out

        user = data.get("integration_user")
        return cls(
            completed_runs=runs,
            integration_user=str(user) if user else None,
            missing_apps=entries("missing_apps"),
            missing_links=entries("missing_links"),
            # an unusable cache is simply read again from the instance
            field_limits=FieldLimits.from_json(data.get("field_limits")),
        )


def _stamp(value: object) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"expected a timestamp, got {value!r}")
    return parse_timestamp(value)


def _count(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"not a non-negative integer: {value!r}")
    return value


def _entry(value: object, version: object, completed_runs: int) -> MissEntry:
    """One entry of a version 1 or 2 file."""
    if version == 1:
        # [first missed at, first missed run]: every committed run since then counted as a miss
        # (what version 1 did); a first miss by a run that never committed is kept uncommitted
        if not isinstance(value, (list, tuple)):
            raise TypeError("expected a list")
        when, raw_run = value
        first_run = _count(raw_run)
        last = completed_runs + 1 if first_run > completed_runs else completed_runs
        return MissEntry(
            first_missed_at=_stamp(when), misses=max(1, last - first_run + 1), last_run=last
        )
    if not isinstance(value, Mapping):
        raise TypeError("expected an object")
    return MissEntry(
        first_missed_at=_stamp(value["first_missed_at"]),
        misses=_count(value["misses"]),
        last_run=_count(value["last_run"]),
    )


class RunStateStore:
    """The run-state file of one job (``<state folder>/cmdb-run-state.json``).

    Args:
        path: the file; its folder is created when first written.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> RunState:
        """The saved state, or a fresh one when the file does not exist yet.

        Raises:
            DocumentError: the file is unreadable, not JSON, or malformed (naming the
                JSON path).
        """
        data = RUN_STATE_DOCUMENT.read(self.path, missing_ok=True)
        if data is None:
            return RunState()
        return RunState.from_json(data, source=str(self.path))

    def save(self, state: RunState) -> None:
        """Replace the file atomically with ``state`` (its folder is created when missing)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        RUN_STATE_DOCUMENT.write(self.path, state.to_json(), sort_keys=True)
