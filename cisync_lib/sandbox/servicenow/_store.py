"""The instance's records, with ServiceNow's write semantics, over the SQLite database.

:class:`ServiceNowStore` is what tests use as their oracle (``sb.store``): it
reads and writes the same data the HTTP APIs serve, without HTTP, so a test
can seed data and check results independently of the client under test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import Any

import attrs

from cisync_lib import SandboxError, SandboxQueryError

from ._db import Database
from ._query import Condition, Invalid, parse_query
from ._schema import SYSTEM_COLUMNS, Column, Schema, Table
from ._sql import compile_query
from ._tables import baseline_tables
from ._values import GIVEN_SYS_ID, RecordExistsError, normalize, stable_id, to_text

__all__ = ["RecordExistsError", "Selection", "ServiceNowStore", "to_text"]

_SYSTEM = frozenset(c.name for c in SYSTEM_COLUMNS)


@attrs.frozen
class Selection:
    """A page of rows and the total number of matches."""

    rows: list[dict[str, str]]
    total: int
    invalid: tuple[Invalid, ...]


class ServiceNowStore:
    """The records of the sandbox instance.

    Args:
        path: the SQLite file; ``None`` keeps everything in memory.
        case_sensitive: compare strings in queries case-sensitively.
        clock: returns the current time (aware UTC), for ``sys_created_on`` etc.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        case_sensitive: bool = False,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.schema = Schema(baseline_tables())
        self.case_sensitive = case_sensitive
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.db = Database(self.schema, path, case_sensitive=case_sensitive)
        self.lock = self.db.lock
        self._choices: dict[tuple[str, str], dict[str, str]] = {}
        self._zones: dict[str, str] = {}

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def now(self) -> str:
        """The current time as ServiceNow writes it: ``YYYY-MM-DD HH:MM:SS`` UTC."""
        return self.clock().astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")

    # --- schema --------------------------------------------------------------------

    def add_table(self, table: Table) -> None:
        """Create a table (e.g. one the Table API auto-creates)."""
        self.add_tables((table,))

    def add_tables(self, tables: Iterable[Table]) -> None:
        """Create tables, parents first (one schema update and dictionary pass for all)."""
        with self.lock:
            for table in tables:
                self.schema.add_table(table)
            self.db.sync()
            self._describe()

    def add_column(self, table: str, name: str, *, label: str = "", indexed: bool = False) -> bool:
        """Add a string column (like a ``u_`` custom field); False if it exists already."""
        with self.lock:
            added = self.schema.add_column(
                table, Column(name, "string", label or name, indexed=indexed)
            )
            if added:
                self.db.sync()
                self._describe()
            return added

    def _describe(self) -> None:
        if self.schema.has("sys_dictionary"):
            self.describe_schema()

    def describe_schema(self) -> None:
        """Describe every table and column in ``sys_db_object`` and ``sys_dictionary``.

        Rows get sys_ids derived from the table and column names and are added only
        where missing, so a state folder never collects duplicates.
        """
        schema = self.schema
        with self.lock:
            for table in schema.tables:
                self._ensure("sys_db_object", {
                    "sys_id": stable_id("sys_db_object", table.name), "name": table.name,
                    "label": table.label,
                    "super_class": stable_id("sys_db_object", table.parent) if table.parent else "",
                    "is_extendable": "true" if table.name in ("cmdb_ci", "sys_user") else "false",
                })  # fmt: skip
                display = schema.display_column(table.name)
                own = (*SYSTEM_COLUMNS, *table.columns) if table.parent is None else table.columns
                for column in own:
                    self._ensure("sys_dictionary", {
                        "sys_id": stable_id("sys_dictionary", table.name, column.name),
                        "name": table.name, "element": column.name, "column_label": column.label,
                        "internal_type": column.type, "reference": column.reference or "",
                        "max_length": str(column.max_length), "default_value": column.default,
                        "display": "true" if column.name == display else "false",
                        "choice": "3" if column.choice else "",
                        "read_only": "true" if column.name.startswith("sys_") else "false",
                    })  # fmt: skip

    def _ensure(self, table: str, values: dict[str, str]) -> None:
        if self.get(table, values["sys_id"]) is None:
            self.insert_row(table, values)

    def _check(self, table: str) -> None:
        if not self.schema.has(table):
            raise SandboxError(message=f"unknown table {table!r}")

    # --- reads -----------------------------------------------------------------------

    def select(
        self,
        table: str,
        encoded_query: str = "",
        *,
        limit: int | None = None,
        offset: int = 0,
        count: bool = True,
        extra: tuple[Condition, ...] = (),
        time_zone: tzinfo = timezone.utc,
    ) -> Selection:
        """Rows of ``table`` matching ``encoded_query``, ordered, paged and counted.

        ``time_zone`` is the requesting user's, for the ``javascript:gs.*`` date helpers.
        """
        self._check(table)
        compiled = compile_query(
            self.schema, table, parse_query(encoded_query),
            case_sensitive=self.case_sensitive, extra=extra, now=self.clock(), tz=time_zone,
        )  # fmt: skip
        columns = list(self.schema.columns(table))
        with self.lock:
            rows = self.db.select(compiled, columns, limit=limit, offset=offset)
            total = self.db.count(compiled) if count else len(rows)
        return Selection(rows, total, compiled.invalid)

    def _strict(self, table: str, encoded_query: str, selection: Selection) -> Selection:
        if selection.invalid:
            raise SandboxQueryError(
                table=table,
                query=encoded_query,
                problems=[f"{i.part}: {i.problem}" for i in selection.invalid],
            )
        return selection

    def query(self, table: str, encoded_query: str = "") -> list[dict[str, str]]:
        """Every row of ``table`` matching ``encoded_query`` (raw string values).

        Unlike the Table API this refuses unusable query parts with
        :class:`~cisync_lib.SandboxQueryError`, so a typo in a test fails loudly.
        """
        return self._strict(table, encoded_query, self.select(table, encoded_query)).rows

    def count(self, table: str, encoded_query: str = "") -> int:
        """How many rows of ``table`` match ``encoded_query`` (strict like :meth:`query`)."""
        selection = self.select(table, encoded_query, limit=0)
        return self._strict(table, encoded_query, selection).total

    def get(self, table: str, sys_id: str) -> dict[str, str] | None:
        """The record of ``table`` (or a child class) with this sys_id, or None."""
        self._check(table)
        rows = self.select(table, "", extra=(Condition("sys_id", "=", sys_id),), count=False).rows
        return rows[0] if rows else None

    def fetch(self, table: str, ids: list[str], columns: list[str]) -> dict[str, dict[str, str]]:
        """Rows of ``table``'s hierarchy by sys_id, with the given (known) columns."""
        known = self.schema.columns(table)
        return self.db.fetch(self.schema.root(table), ids, [c for c in columns if c in known])

    def choice_labels(self, table: str, element: str) -> Mapping[str, str]:
        """``value -> label`` of the active English choices of a column (a child's win)."""
        key = (table, element)
        with self.lock:
            cached = self._choices.get(key)
            if cached is None:
                cached = {}
                for owner in reversed(self.schema.ancestors(table)):
                    rows = self.select(
                        "sys_choice",
                        f"name={owner}^element={element}^inactive=false^ORDERBYsequence",
                    ).rows
                    if rows:
                        cached = {
                            r["value"]: r["label"] for r in rows if r["language"] in ("", "en")
                        }
                self._choices[key] = cached
            return cached

    # --- writes ------------------------------------------------------------------------

    def insert_row(
        self, table: str, values: Mapping[str, Any], *, user: str = "system"
    ) -> dict[str, str]:
        """Insert a record with ServiceNow's defaults and system fields; returns the row."""
        self._check(table)
        wanted = to_text(values.get("sys_class_name"))
        cls = wanted if wanted in self.schema.descendants(table) else table
        columns = self.schema.columns(cls)
        row = {c.name: c.default for c in columns.values()}
        for name, default in row.items():
            if default.startswith("javascript:") and name not in values:
                row[name] = self._script_default(default, user)
        for name, value in values.items():
            column = columns.get(name)
            if column is not None and name not in _SYSTEM:
                row[name] = normalize(value, column)
        sys_id = to_text(values.get("sys_id")) or uuid.uuid4().hex  # kept exactly as given
        if not GIVEN_SYS_ID.fullmatch(sys_id):
            raise SandboxError(
                message=f"invalid sys_id {sys_id!r}: up to 32 characters, no spaces, /, ?, #, %"
            )
        now = self.now()
        row.update(
            sys_id=sys_id, sys_created_on=now, sys_created_by=user, sys_updated_on=now,
            sys_updated_by=user, sys_mod_count="0", sys_class_name=cls,
        )  # fmt: skip
        with self.lock:
            taken = {sys_id, sys_id.lower(), sys_id.upper()}  # an instance ignores case
            if self.db.fetch(self.schema.root(table), list(taken), []):
                raise RecordExistsError(message=f"{table} record {sys_id} already exists")
            prefix = next(
                (
                    p
                    for t in self.schema.ancestors(cls)
                    if (p := self.schema.table(t).number_prefix)
                ),
                None,
            )
            if prefix and not row.get("number"):
                row["number"] = self.db.next_number(prefix)
            if "sys_user" in self.schema.ancestors(cls) and not row.get("name"):
                row["name"] = f"{row.get('first_name', '')} {row.get('last_name', '')}".strip()
            self.db.insert(self.schema.root(table), row)
            self._written(cls)
        return {name: row[name] for name in self.schema.columns(table)}

    def _script_default(self, script: str, user: str) -> str:
        """Evaluate a dictionary default that is a script, as the instance does on insert.

        Only the two defaults of the sandbox's tables are known: the calling user's
        sys_id (``gs.getUserID()``, empty when no ``sys_user`` has the login's user
        name) and the current date-time; anything else is left empty.
        """
        expression = script.removeprefix("javascript:").strip().rstrip(";").strip()
        if expression == "gs.getUserID()":
            rows = self.select(
                "sys_user", "", limit=1, count=False, extra=(Condition("user_name", "=", user),)
            ).rows
            return rows[0]["sys_id"] if rows else ""
        if expression == "gs.nowDateTime()":
            return self.now()
        return ""

    def update_row(
        self, table: str, sys_id: str, values: Mapping[str, Any], *, user: str = "system"
    ) -> dict[str, str] | None:
        """Change fields of a record (no-op changes write nothing); None if it does not exist."""
        with self.lock:
            current = self.get(table, sys_id)
            if current is None:
                return None
            columns = self.schema.columns(current["sys_class_name"] or table)
            stored = self.fetch(table, [current["sys_id"]], list(columns))[current["sys_id"]]
            changes = {
                name: text
                for name, value in values.items()
                if name in columns and name not in _SYSTEM
                if (text := normalize(value, columns[name])) != stored.get(name)
            }
            if changes:
                changes.update(
                    sys_updated_on=self.now(),
                    sys_updated_by=user,
                    sys_mod_count=str(int(stored.get("sys_mod_count") or 0) + 1),
                )
                self.db.update(self.schema.root(table), current["sys_id"], changes)
                self._written(current["sys_class_name"] or table)
            return self.get(table, sys_id)

    def delete_row(self, table: str, sys_id: str) -> bool:
        """Delete a record and the relationship rows pointing at it; False if it does not exist."""
        with self.lock:
            current = self.get(table, sys_id)
            if current is None:
                return False
            cls = current["sys_class_name"] or table
            self.db.delete_where(self.schema.root(table), "sys_id", current["sys_id"])
            classes = set(self.schema.ancestors(cls))
            for other in self.schema.tables:
                if other.cascade_delete:
                    for column in other.columns:
                        if column.reference in classes:
                            self.db.delete_where(other.name, column.name, current["sys_id"])
            self._written(cls)
            return True

    def normalized(self, table: str, values: Mapping[str, Any]) -> dict[str, str]:
        """The known, non-system fields of ``values`` as the store would write them."""
        columns = self.schema.columns(table)
        return {
            name: normalize(value, columns[name])
            for name, value in values.items()
            if name in columns and name not in _SYSTEM
        }

    def user_time_zone(self, user_name: str) -> str:
        """The ``sys_user.time_zone`` of the user called ``user_name`` ("" if none or blank)."""
        with self.lock:
            zone = self._zones.get(user_name)
            if zone is None:
                rows = self.select(
                    "sys_user", extra=(Condition("user_name", "=", user_name),), count=False
                ).rows
                zone = self._zones[user_name] = rows[0].get("time_zone", "") if rows else ""
            return zone

    def _written(self, table: str) -> None:
        if table == "sys_choice":
            self._choices.clear()
        if table == "sys_user":
            self._zones.clear()

    # --- direct access (`sb.store`): seed and check records without HTTP -------------------

    def insert(self, table: str, values: Mapping[str, Any]) -> str:
        """Insert a record as user ``system``; returns its sys_id."""
        return self.insert_row(table, values)["sys_id"]

    def update(self, table: str, sys_id: str, values: Mapping[str, Any]) -> dict[str, str]:
        """Change fields of a record; returns the row (SandboxError if it does not exist)."""
        row = self.update_row(table, sys_id, values)
        if row is None:
            raise SandboxError(message=f"no {table} record {sys_id}")
        return row

    def delete(self, table: str, sys_id: str) -> None:
        """Delete a record (SandboxError if it does not exist)."""
        if not self.delete_row(table, sys_id):
            raise SandboxError(message=f"no {table} record {sys_id}")
