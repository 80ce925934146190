"""The SQLite side of the store: connection, DDL kept in step with the schema, raw reads.

One connection per store, shared by the server threads behind one lock (an
in-memory database exists only on its connection). Every value is a ``TEXT``
column that is never NULL: ServiceNow gives every value as a string and
empty as ``""``.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from ._schema import Column, Schema, check_name
from ._sql import FOLD_FUNCTION, Compiled, fold

__all__ = ["Database"]

_CHUNK = 400  # sys_ids per "IN (...)" lookup, well under SQLite's parameter limit


def _quote(name: str) -> str:
    return f'"{check_name(name)}"'


@functools.lru_cache(maxsize=256)
def _picked(columns: tuple[str, ...]) -> str:
    """The SELECT list of a table's columns (the same few lists serve every request)."""
    return ", ".join(f"t.{_quote(c)}" for c in columns)


class Database:
    """A SQLite database holding one SQL table per class hierarchy.

    Args:
        schema: the tables to create and keep in step.
        path: the database file, or ``None`` for memory.
        case_sensitive: build indexes for case-sensitive rather than folded lookups.
    """

    def __init__(self, schema: Schema, path: Path | None, *, case_sensitive: bool) -> None:
        self.schema = schema
        self.case_sensitive = case_sensitive
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(
            ":memory:" if path is None else str(path), check_same_thread=False, isolation_level=None
        )
        self.conn.create_function(FOLD_FUNCTION, 1, fold, deterministic=True)
        if path is not None:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS _meta (key TEXT PRIMARY KEY, value TEXT)")
        self.sync()

    def close(self) -> None:
        """Close the connection."""
        with self.lock:
            self.conn.close()

    def sync(self) -> None:
        """Create missing SQL tables, columns and indexes for the current schema."""
        with self.lock:
            for table in self.schema.tables:
                if table.parent is None:
                    self._sync_root(table.name)

    def _sync_root(self, root: str) -> None:
        columns = self.schema.storage_columns(root)
        existing = {row[1] for row in self.conn.execute(f"PRAGMA table_info({_quote(root)})")}
        if not existing:
            defs = ", ".join(
                f"{_quote(c.name)} TEXT NOT NULL DEFAULT ''" for c in columns if c.name != "sys_id"
            )
            self.conn.execute(
                f"CREATE TABLE {_quote(root)} (sys_id TEXT PRIMARY KEY NOT NULL, {defs})"
            )
        else:
            for column in columns:
                if column.name not in existing:
                    self.conn.execute(
                        f"ALTER TABLE {_quote(root)} ADD COLUMN {_quote(column.name)} "
                        "TEXT NOT NULL DEFAULT ''"
                    )
        for column in columns:
            if column.indexed:
                self._index(root, column)

    def _index(self, root: str, column: Column) -> None:
        if self.case_sensitive or column.name == "sys_class_name":
            name, expr = f"ix_{root}_{column.name}", _quote(column.name)
        else:
            name, expr = f"ix_{root}_{column.name}_ci", f"{FOLD_FUNCTION}({_quote(column.name)})"
        self.conn.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON {_quote(root)} ({expr})')

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock and make the writes inside one transaction (bulk loads: one commit)."""
        with self.lock:
            self.conn.execute("BEGIN")
            try:
                yield
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    # --- reads -------------------------------------------------------------------

    def select(
        self, compiled: Compiled, columns: Sequence[str], *, limit: int | None, offset: int
    ) -> list[dict[str, str]]:
        """Rows matching a compiled query, with the given columns of the queried table."""
        picked = _picked(tuple(columns))
        sql = (
            f"SELECT {picked} FROM {compiled.source} WHERE {compiled.where} "
            f"ORDER BY {compiled.order} LIMIT ? OFFSET ?"
        )
        params = (*compiled.params, -1 if limit is None else limit, max(0, offset))
        with self.lock:
            cursor = self.conn.execute(sql, params)
            return [dict(zip(columns, row, strict=True)) for row in cursor]

    def count(self, compiled: Compiled) -> int:
        """How many rows match a compiled query."""
        sql = f"SELECT COUNT(*) FROM {compiled.source} WHERE {compiled.where}"
        with self.lock:
            return int(self.conn.execute(sql, compiled.params).fetchone()[0])

    def fetch(
        self, root: str, ids: Iterable[str], columns: Sequence[str]
    ) -> dict[str, dict[str, str]]:
        """Rows of hierarchy ``root`` by sys_id (missing ones are left out)."""
        wanted = sorted({i for i in ids if i})
        picked = ", ".join(_quote(c) for c in ("sys_id", *columns))
        found: dict[str, dict[str, str]] = {}
        with self.lock:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ", ".join("?" * len(chunk))
                sql = f"SELECT {picked} FROM {_quote(root)} WHERE sys_id IN ({marks})"
                for row in self.conn.execute(sql, chunk):
                    found[row[0]] = dict(zip(columns, row[1:], strict=True))
        return found

    # --- writes ------------------------------------------------------------------

    def insert(self, root: str, row: dict[str, str]) -> None:
        """Insert a full row (names already checked against the schema)."""
        names = ", ".join(_quote(c) for c in row)
        marks = ", ".join("?" * len(row))
        with self.lock:
            self.conn.execute(
                f"INSERT INTO {_quote(root)} ({names}) VALUES ({marks})", list(row.values())
            )

    def update(self, root: str, sys_id: str, changes: dict[str, str]) -> None:
        """Set some columns of one row."""
        sets = ", ".join(f"{_quote(c)} = ?" for c in changes)
        with self.lock:
            self.conn.execute(
                f"UPDATE {_quote(root)} SET {sets} WHERE sys_id = ?", [*changes.values(), sys_id]
            )

    def delete_where(self, root: str, column: str, value: str) -> int:
        """Delete rows whose ``column`` equals ``value``; returns how many."""
        with self.lock:
            cursor = self.conn.execute(
                f"DELETE FROM {_quote(root)} WHERE {_quote(column)} = ?", (value,)
            )
            return cursor.rowcount

    def next_number(self, prefix: str) -> str:
        """The next auto-number for ``prefix`` (``APM0001001``, ``APM0001002``, ...)."""
        key = f"number:{prefix}"
        with self.lock:
            row = self.conn.execute("SELECT value FROM _meta WHERE key = ?", (key,)).fetchone()
            value = int(row[0]) + 1 if row else 1001
            self.conn.execute(
                "INSERT INTO _meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, str(value)),
            )
        return f"{prefix}{value:07d}"
