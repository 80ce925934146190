"""Translating a parsed encoded query into one parameterised SQLite statement.

Values only ever reach SQL as parameters. Table and column names come from the
:class:`~cisync_lib.sandbox.servicenow._schema.Schema` (checked against
``[a-z][a-z0-9_]*``), never from the query text unless the schema knows them.

Semantics (documented on the sandbox docs page):

* strings compare case-insensitively by default (Unicode case folding through
  the ``sn_fold`` SQL function), case-sensitively when configured; ``sys_id`` is
  always compared exactly, after lower-casing the value;
* ``integer`` columns compare and sort numerically;
* ``<``, ``<=``, ``>``, ``>=`` and ``BETWEEN`` never match empty values;
  ``!=``, ``NOT LIKE`` and ``NOT IN`` do;
* ordering: each ``ORDERBY`` in turn (empty values first when ascending), then
  ``sys_id`` ascending as the final tie-break;
* a dot-walk ``a.b`` follows reference ``a`` to its table; a missing referenced
  record reads as empty.
"""

from __future__ import annotations

from attrs import frozen

from ._query import Condition, EncodedQuery, Invalid, Order
from ._schema import Column, Schema

__all__ = ["Compiled", "compile_query", "fold"]

#: the SQL function, registered on every connection, that folds case.
FOLD_FUNCTION = "sn_fold"


def fold(value: str) -> str:
    """The case folding used for case-insensitive comparison."""
    return value.casefold()


def _successor(prefix: str) -> str | None:
    """The smallest string above every string starting with ``prefix`` (code-point order).

    SQLite compares text as UTF-8 bytes, which orders like code points, so
    ``prefix <= s < successor`` holds exactly for the strings starting with ``prefix``.
    """
    last = ord(prefix[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:
        last = 0xE000  # surrogates cannot be encoded
    if last > 0x10FFFF:
        return None
    return prefix[:-1] + chr(last)


@frozen
class Compiled:
    """A compiled query: ``FROM {source} WHERE {where} ORDER BY {order}`` plus parameters."""

    source: str
    where: str
    order: str
    params: tuple[str | float, ...]
    invalid: tuple[Invalid, ...]


class _Builder:
    def __init__(self, schema: Schema, table: str, case_sensitive: bool) -> None:
        self.schema = schema
        self.table = table
        self.case_sensitive = case_sensitive
        self.joins: dict[str, tuple[str, str]] = {}  # dotted prefix -> (alias, target table)
        self.join_sql: list[str] = []

    def column(self, path: str) -> tuple[str, Column] | None:
        """SQL expression and column for a (possibly dot-walked) field, or None if unknown."""
        parts = path.split(".")
        alias, table = "t", self.table
        for depth, name in enumerate(parts[:-1]):
            column = self.schema.columns(table).get(name)
            if column is None or column.reference is None or not self.schema.has(column.reference):
                return None
            prefix = ".".join(parts[: depth + 1])
            if prefix not in self.joins:
                joined = f"j{len(self.joins) + 1}"
                root = self.schema.root(column.reference)
                self.join_sql.append(
                    f'LEFT JOIN "{root}" AS {joined} ON {joined}.sys_id = {alias}."{name}"'
                )
                self.joins[prefix] = (joined, column.reference)
            alias, table = self.joins[prefix]
        column = self.schema.columns(table).get(parts[-1])
        if column is None:
            return None
        expr = f'{alias}."{column.name}"'
        return (expr if alias == "t" else f"COALESCE({expr}, '')"), column

    def text(self, expr: str, column: Column) -> str:
        if self.case_sensitive or column.type == "GUID":
            return expr
        return f"{FOLD_FUNCTION}({expr})"

    def value(self, value: str, column: Column) -> str:
        if column.type == "GUID":
            return value.lower()
        return value if self.case_sensitive else fold(value)

    def condition(self, cond: Condition, params: list[str | float]) -> str | None:
        resolved = self.column(cond.field)
        if resolved is None:
            return None
        expr, column = resolved
        op, raw = cond.operator, cond.value
        if op in ("ISEMPTY", "EMPTYSTRING"):
            return f"{expr} = ''"
        if op == "ISNOTEMPTY":
            return f"{expr} != ''"
        if op == "ANYTHING":
            return "1"
        if op in ("<", "<=", ">", ">=", "BETWEEN"):
            return self.compare(expr, column, op, raw, params)
        text, value = self.text(expr, column), self.value(raw, column)
        if op in ("=", "!="):
            params.append(value)
            return f"{text} {op} ?"
        if op in ("LIKE", "NOT LIKE"):
            params.append(value)
            return f"instr({text}, ?) {'>' if op == 'LIKE' else '='} 0"
        if op in ("STARTSWITH", "ENDSWITH"):
            if not value:
                return "1"
            upper = _successor(value) if op == "STARTSWITH" else None
            if upper is not None:
                # a range on the (folded) value, so an index on the expression serves it
                params.extend((value, upper))
                return f"({text} >= ? AND {text} < ?)"
            params.extend((value, value))
            if op == "STARTSWITH":
                return f"substr({text}, 1, length(?)) = ?"
            return f"substr({text}, -length(?)) = ?"
        items = [self.value(v, column) for v in raw.split(",")]
        params.extend(items)
        marks = ", ".join("?" * len(items))
        return f"{text} {'IN' if op == 'IN' else 'NOT IN'} ({marks})"

    def compare(
        self, expr: str, column: Column, op: str, raw: str, params: list[str | float]
    ) -> str | None:
        bounds = raw.split("@") if op == "BETWEEN" else [raw]
        if len(bounds) != (2 if op == "BETWEEN" else 1):
            return None
        values: list[str | float]
        if column.numeric:
            try:
                values = [float(b) for b in bounds]
            except ValueError:
                return None
            subject = f"CAST({expr} AS REAL)"
        else:
            values = [self.value(b, column) for b in bounds]
            subject = self.text(expr, column)
        params.extend(values)
        if op == "BETWEEN":
            return f"({expr} != '' AND {subject} >= ? AND {subject} <= ?)"
        return f"({expr} != '' AND {subject} {op} ?)"

    def order(self, clause: Order) -> list[str] | None:
        resolved = self.column(clause.field)
        if resolved is None:
            return None
        expr, column = resolved
        direction = "DESC" if clause.descending else "ASC"
        if column.numeric:
            return [f"({expr} != '') {direction}", f"CAST({expr} AS REAL) {direction}"]
        return [f"{self.text(expr, column)} {direction}"]


def compile_query(
    schema: Schema,
    table: str,
    query: EncodedQuery,
    *,
    case_sensitive: bool = False,
    extra: tuple[Condition, ...] = (),
) -> Compiled:
    """Compile ``query`` on ``table`` (which must exist) into SQL.

    Args:
        schema: the instance schema.
        table: the table queried (its hierarchy's SQL table is read).
        query: the parsed query.
        case_sensitive: compare strings exactly instead of case-folded.
        extra: conditions AND-ed to every group (``name=value`` URL filters).

    Returns:
        The SQL pieces; conditions on unknown fields or with unusable values are
        left out and listed in ``invalid``.
    """
    builder = _Builder(schema, table, case_sensitive)
    params: list[str | float] = []
    invalid = list(query.invalid)
    groups: list[str] = []
    for group in query.groups:
        clauses: list[str] = []
        for clause in (*group, *((c,) for c in extra)):
            sql = []
            for cond in clause:
                piece = builder.condition(cond, params)
                if piece is None:
                    part = f"{cond.field}{cond.operator}{cond.value}"
                    invalid.append(Invalid(part, "unknown field or unusable value"))
                else:
                    sql.append(piece)
            if sql:
                clauses.append(sql[0] if len(sql) == 1 else "(" + " OR ".join(sql) + ")")
        if clauses:
            groups.append(" AND ".join(clauses))
    if not query.groups and extra:
        extra_sql = [builder.condition(c, params) for c in extra]
        groups.append(" AND ".join(s for s in extra_sql if s) or "1")
    where = " OR ".join(f"({g})" for g in groups) if groups else "1"
    root = schema.root(table)
    if root != table:
        classes = schema.descendants(table)
        params.extend(classes)
        where = f"({where}) AND t.sys_class_name IN ({', '.join('?' * len(classes))})"
    order: list[str] = []
    for ordering in query.order:
        pieces = builder.order(ordering)
        if pieces is None:
            invalid.append(Invalid(f"ORDERBY{ordering.field}", "unknown field"))
        else:
            order.extend(pieces)
    order.append("t.sys_id ASC")
    source = " ".join([f'"{root}" AS t', *builder.join_sql])
    return Compiled(source, where, ", ".join(order), tuple(params), tuple(invalid))
