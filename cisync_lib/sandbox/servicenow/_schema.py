"""Tables, columns and class hierarchy of the sandbox instance.

A class hierarchy (``cmdb_ci`` and its children) lives in one SQL table named
after its root, holding every column of every class, with ``sys_class_name``
telling the class of each row: a query on ``cmdb_ci`` sees business apps too.
Names are checked against :data:`NAME` before they ever reach SQL.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping

from attrs import frozen

from cisync_lib import SandboxError

__all__ = ["NAME", "SYSTEM_COLUMNS", "Column", "Schema", "Table", "check_name"]

#: table and column names: lowercase, starting with a letter (what ServiceNow allows, roughly).
NAME = re.compile(r"[a-z][a-z0-9_]{0,79}")


def check_name(name: str, what: str = "name") -> str:
    """Return ``name`` if it is a valid table or column name, else raise SandboxError."""
    if not NAME.fullmatch(name):
        raise SandboxError(message=f"invalid {what} {name!r}: use [a-z][a-z0-9_]*")
    return name


@frozen
class Column:
    """A column (``sys_dictionary`` entry).

    Attributes:
        name: the column (element) name.
        type: the ServiceNow internal type: ``string``, ``integer``, ``boolean``,
            ``reference``, ``glide_date_time``, ``glide_date``, ``GUID``, ``sys_class_name``.
        label: the column label.
        reference: the referenced table, for references.
        max_length: the maximum length.
        default: the default value on insert.
        choice: whether ``sys_choice`` holds labels for its values.
        indexed: whether lookups on it should be fast (references always are).
    """

    name: str
    type: str = "string"
    label: str = ""
    reference: str | None = None
    max_length: int = 255
    default: str = ""
    choice: bool = False
    indexed: bool = False

    @property
    def numeric(self) -> bool:
        """Whether comparisons and ordering are numeric."""
        return self.type == "integer"


@frozen
class Table:
    """A table (``sys_db_object``) with its own columns (inherited ones come from ``parent``).

    Attributes:
        name: the table name.
        label: the table label.
        parent: the table it extends, if any.
        columns: the columns it adds.
        display: the display column (shown for references to it).
        number_prefix: auto-numbering prefix for ``number`` (``APM`` for business apps).
        cascade_delete: rows go away when a record they reference is deleted
            (relationship tables).
    """

    name: str
    label: str
    parent: str | None = None
    columns: tuple[Column, ...] = ()
    display: str | None = None
    number_prefix: str | None = None
    cascade_delete: bool = False


SYSTEM_COLUMNS = (
    Column("sys_id", "GUID", "Sys ID", max_length=32),
    Column("sys_created_on", "glide_date_time", "Created", max_length=40),
    Column("sys_created_by", "string", "Created by", max_length=40),
    Column("sys_updated_on", "glide_date_time", "Updated", max_length=40),
    Column("sys_updated_by", "string", "Updated by", max_length=40),
    Column("sys_mod_count", "integer", "Updates", max_length=40, default="0"),
    Column("sys_class_name", "sys_class_name", "Class", max_length=80, indexed=True),
)


class Schema:
    """The tables of one instance; thread-safe, grows when tables or columns are added."""

    def __init__(self, tables: Iterable[Table] = ()) -> None:
        self._lock = threading.RLock()
        self._tables: dict[str, Table] = {}
        self._columns: dict[str, dict[str, Column]] = {}
        for table in tables:
            self.add_table(table)

    def has(self, name: str) -> bool:
        """Whether the table exists."""
        return name in self._tables

    def table(self, name: str) -> Table:
        """The table called ``name`` (SandboxError if unknown)."""
        try:
            return self._tables[name]
        except KeyError:
            raise SandboxError(message=f"unknown table {name!r}") from None

    @property
    def tables(self) -> tuple[Table, ...]:
        """Every table, in the order they were added."""
        return tuple(self._tables.values())

    def add_table(self, table: Table) -> None:
        """Add a table; its parent must exist already."""
        with self._lock:
            check_name(table.name, "table name")
            for column in table.columns:
                check_name(column.name, "column name")
            if table.parent is not None:
                self.table(table.parent)
            self._tables[table.name] = table
            self._columns.clear()

    def add_column(self, table_name: str, column: Column) -> bool:
        """Add a column to a table; returns False if it already has one of that name."""
        with self._lock:
            check_name(column.name, "column name")
            if column.name in self.columns(table_name):
                return False
            table = self.table(table_name)
            self._tables[table_name] = Table(
                name=table.name,
                label=table.label,
                parent=table.parent,
                columns=(*table.columns, column),
                display=table.display,
                number_prefix=table.number_prefix,
                cascade_delete=table.cascade_delete,
            )
            self._columns.clear()
            return True

    def ancestors(self, name: str) -> tuple[str, ...]:
        """The table and the tables it extends, the table itself first."""
        chain = [name]
        while (parent := self.table(chain[-1]).parent) is not None:
            chain.append(parent)
        return tuple(chain)

    def root(self, name: str) -> str:
        """The top of the table's hierarchy: the SQL table its rows live in."""
        return self.ancestors(name)[-1]

    def descendants(self, name: str) -> tuple[str, ...]:
        """The table and every table extending it, directly or not."""
        return tuple(t.name for t in self._tables.values() if name in self.ancestors(t.name))

    def columns(self, name: str) -> Mapping[str, Column]:
        """Every column of the table: system columns, inherited ones, then its own."""
        with self._lock:
            cached = self._columns.get(name)
            if cached is None:
                cached = {c.name: c for c in SYSTEM_COLUMNS}
                for table_name in reversed(self.ancestors(name)):
                    cached.update((c.name, c) for c in self.table(table_name).columns)
                self._columns[name] = cached
            return cached

    def storage_columns(self, root: str) -> tuple[Column, ...]:
        """Every column stored in the SQL table of hierarchy ``root``."""
        seen: dict[str, Column] = {}
        for table in self.descendants(root):
            for column in self.columns(table).values():
                seen.setdefault(column.name, column)
        return tuple(seen.values())

    def display_column(self, name: str) -> str:
        """The column whose value stands for a record: display, else name, number, sys_id."""
        for table_name in self.ancestors(name):
            display = self.table(table_name).display
            if display is not None:
                return display
        columns = self.columns(name)
        return next((c for c in ("name", "number") if c in columns), "sys_id")

    def label(self, name: str) -> str:
        """The table's label, or its name if unknown."""
        table = self._tables.get(name)
        return table.label if table is not None else name
