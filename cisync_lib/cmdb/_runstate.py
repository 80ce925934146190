"""Grace-period bookkeeping: when each app or link was first missed, kept in a JSON file.

Why this survives a crash:

* The file is replaced atomically (temporary file, fsync, rename, fsync of
  the folder): a reader sees the old or the new content, never half of it.
* Runs are counted only when committed: the planner gives a missed item the
  number of the run in progress (``completed_runs + 1``); apply writes that
  *pending* state before its first write and bumps ``completed_runs`` only after
  the last one. A run that crashes (or a plan never applied) is not counted,
  so re-running after a crash never shortens a grace period.
* Writing before apply means "first missed" timestamps are never lost, even
  when the process dies during apply; losing the file entirely only restarts
  every grace period (items are removed later, never earlier).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

import attrs
from attrs import field, frozen

from cisync_lib._atomic import write_atomic
from cisync_lib._errors import ConfigError

__all__ = ["MissEntry", "RunState", "RunStateStore"]

_VERSION = 1


@frozen(kw_only=True)
class MissEntry:
    """When an item went missing from the source.

    Attributes:
        first_missed_at: the time of the first run that missed it (UTC).
        first_missed_run: the number of that run.
    """

    first_missed_at: datetime
    first_missed_run: int

    def missed_runs(self, current_run: int) -> int:
        """Consecutive runs (this one included) that missed the item."""
        return current_run - self.first_missed_run + 1


@frozen(kw_only=True)
class RunState:
    """The state a job keeps between runs.

    Attributes:
        completed_runs: runs whose apply finished.
        integration_user: the account our inserts were made as (learnt from them).
        missing_apps: app id -> when it was first missed.
        missing_links: ``"<ci>:<user>"`` -> when the link was first missed.
    """

    completed_runs: int = 0
    integration_user: str | None = None
    missing_apps: Mapping[str, MissEntry] = field(factory=dict)
    missing_links: Mapping[str, MissEntry] = field(factory=dict)

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

        def entries(m: Mapping[str, MissEntry]) -> dict[str, list[object]]:
            return {
                k: [e.first_missed_at.astimezone(timezone.utc).isoformat(), e.first_missed_run]
                for k, e in sorted(m.items())
            }

        return {
            "version": _VERSION,
            "completed_runs": self.completed_runs,
            "integration_user": self.integration_user,
            "missing_apps": entries(self.missing_apps),
            "missing_links": entries(self.missing_links),
        }

    @classmethod
    def from_json(cls, data: object, *, source: str = "<run state>") -> RunState:
        """Read :meth:`to_json` output.

        Raises:
            ConfigError: naming the file and key, for anything malformed.
        """

        def bad(key: str, problem: str) -> ConfigError:
            return ConfigError(file=source, key=key, problem=problem)

        if not isinstance(data, Mapping):
            raise bad("$", "expected a JSON object")
        if data.get("version") != _VERSION:
            raise bad("version", f"unsupported version {data.get('version')!r}")

        def entries(key: str) -> dict[str, MissEntry]:
            raw = data.get(key, {})
            if not isinstance(raw, Mapping):
                raise bad(key, "expected an object")
            out = {}
            for item, value in raw.items():
                try:
                    when, run = value
                    stamp = datetime.fromisoformat(str(when))
                    if stamp.tzinfo is None:
                        stamp = stamp.replace(tzinfo=timezone.utc)
                    out[str(item)] = MissEntry(first_missed_at=stamp, first_missed_run=int(run))
                except (TypeError, ValueError) as exc:
                    raise bad(f"{key}.{item}", f"expected [timestamp, run], got {value!r}") from exc
            return out

        runs = data.get("completed_runs", 0)
        if not isinstance(runs, int) or runs < 0:
            raise bad("completed_runs", "expected a non-negative integer")
        user = data.get("integration_user")
        return cls(
            completed_runs=runs,
            integration_user=str(user) if user else None,
            missing_apps=entries("missing_apps"),
            missing_links=entries("missing_links"),
        )


class RunStateStore:
    """The run-state file of one job (``<state folder>/cmdb-run-state.json``).

    Args:
        path: the file; its folder is created when first written.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> RunState:
        """The saved state, or a fresh one when the file does not exist yet."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return RunState()
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(file=str(self.path), problem=f"not valid JSON: {exc}") from exc
        return RunState.from_json(data, source=str(self.path))

    def save(self, state: RunState) -> None:
        """Replace the file atomically with ``state``."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, json.dumps(state.to_json(), indent=1, sort_keys=True) + "\n")
