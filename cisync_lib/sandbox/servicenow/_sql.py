"""Translating a parsed encoded query into one parameterised SQLite statement.

Values only ever reach SQL as parameters. Table and column names come from the
:class:`~cisync_lib.sandbox.servicenow._schema.Schema` (checked against
``[a-z][a-z0-9_]*``), never from the query text unless the schema knows them.

Semantics (documented on the sandbox docs page, with sources):

* strings compare case-insensitively by default (Unicode case folding through
  the ``sn_fold`` SQL function), case-sensitively when configured; ``sys_id`` is
  matched as given, all lower-case or all upper-case (patterns and ranges with
  an upper-case value ignore case);
* ``integer`` columns compare and sort numerically; date-time columns compare
  their stored ``YYYY-MM-DD HH:MM:SS`` (UTC) text, and accept ``javascript:gs.*``
  date helpers evaluated against the sandbox clock in the user's time zone;
* an empty value is SQL ``NULL`` on an instance, so no operator but ``ISEMPTY``,
  ``EMPTYSTRING``, ``ANYTHING`` and ``=`` with an empty value matches it:
  ``!=``, ``NOT IN``, ``NOT LIKE`` and ``NSAMEAS`` leave empty values out
  (KB0715430), as do ``<``, ``>``, ``BETWEEN``, ``ON``, ``LIKE`` ...;
* ``INSTANCEOF`` matches a class and every class extending it;
* ordering: each ``ORDERBY`` in turn (empty values first when ascending), then
  ``sys_id`` ascending as the final tie-break;
* a dot-walk ``a.b`` follows reference ``a`` to its table; a missing referenced
  record reads as empty.

A condition on an unknown field is left out and reported as ``ignored`` (what an
instance does); anything else the sandbox cannot evaluate is reported as
``unsupported`` and never silently dropped.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo

from attrs import frozen

from ._dates import DATE_TYPES, UnsupportedValue, evaluate_script, literal
from ._query import UNKNOWN, Condition, EncodedQuery, Invalid, InvalidKind, Order, RelatedQuery
from ._schema import Column, Schema

__all__ = ["Compiled", "compile_query", "fold"]

#: the SQL function, registered on every connection, that folds case.
FOLD_FUNCTION = "sn_fold"

_RANGE = ("<", "<=", ">", ">=", "BETWEEN", "ON")
#: operators an instance evaluates on a reference field's display value, not its sys_id.
_ON_DISPLAY = ("LIKE", "NOT LIKE", "STARTSWITH", "ENDSWITH", *_RANGE)


#: the case folding used for case-insensitive comparison: ``str.casefold`` itself,
#: not a wrapper, since SQLite calls it (as ``sn_fold``) once per row of a scan.
fold = str.casefold


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


def _balanced(pieces: list[str], joiner: str) -> str:
    """``pieces`` joined with AND / OR as a balanced tree.

    SQLite parses ``a OR b OR c ...`` into a tree as deep as the list is long and
    refuses depth 1000; a long ``^OR`` list (2000 names) is a valid query.
    """
    if len(pieces) == 1:
        return pieces[0]
    if len(pieces) <= 16:
        return "(" + f" {joiner} ".join(pieces) + ")"
    middle = len(pieces) // 2
    return f"({_balanced(pieces[:middle], joiner)} {joiner} {_balanced(pieces[middle:], joiner)})"


def _guid_variants(value: str) -> list[str]:
    """A sys_id as given, lower-cased and upper-cased (an instance matches any case)."""
    return list(dict.fromkeys((value, value.lower(), value.upper())))


@frozen
class Compiled:
    """A compiled query: ``FROM {source} WHERE {where} ORDER BY {order}`` plus parameters."""

    source: str
    where: str
    order: str
    params: tuple[str | float, ...]
    invalid: tuple[Invalid, ...]


class _Unusable(Exception):
    def __init__(self, problem: str, kind: InvalidKind = "unsupported") -> None:
        super().__init__(problem)
        self.problem = problem
        self.kind: InvalidKind = kind


class _Builder:
    def __init__(
        self,
        schema: Schema,
        table: str,
        case_sensitive: bool,
        now: datetime,
        tz: tzinfo,
        alias: str = "t",
    ) -> None:
        self.schema = schema
        self.table = table
        self.case_sensitive = case_sensitive
        self.now = now
        self.tz = tz
        self.alias = alias  # "t" for the queried table, "r" inside an RLQUERY subquery
        self.joins: dict[str, tuple[str, str]] = {}  # dotted prefix -> (alias, target table)
        self.join_sql: list[str] = []

    def column(self, path: str) -> tuple[str, Column] | None:
        """SQL expression and column for a (possibly dot-walked) field, or None if unknown."""
        parts = path.split(".")
        alias, table = self.alias, self.table
        for depth, name in enumerate(parts[:-1]):
            column = self.schema.columns(table).get(name)
            if column is None or column.reference is None or not self.schema.has(column.reference):
                return None
            prefix = ".".join(parts[: depth + 1])
            if prefix not in self.joins:
                joined = f"{self.alias}j{len(self.joins) + 1}"
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
        return (expr if alias == self.alias else f"COALESCE({expr}, '')"), column

    def _known(self, path: str) -> tuple[str, Column]:
        resolved = self.column(path)
        if resolved is None:
            raise _Unusable("unknown field", "ignored")
        return resolved

    def text(self, expr: str, column: Column) -> str:
        if self.case_sensitive or column.type == "GUID" or column.type in DATE_TYPES:
            return expr
        return f"{FOLD_FUNCTION}({expr})"

    def value(self, value: str, column: Column) -> str:
        if column.type == "GUID" or column.type in DATE_TYPES:
            return value
        return value if self.case_sensitive else fold(value)

    def scalar(self, raw: str, column: Column, *, dated: bool) -> str:
        """A value as compared: scripts evaluated, date literals checked."""
        try:
            if raw.lstrip().lower().startswith("javascript:"):
                result = evaluate_script(raw.strip(), self.now, self.tz)
                return result[:10] if column.type == "glide_date" else result
            if dated and column.type in DATE_TYPES and raw:
                return literal(raw, column.type)
        except UnsupportedValue as exc:
            raise _Unusable(str(exc)) from None
        return raw

    def condition(self, cond: Condition, params: list[str | float]) -> str:
        if cond.related is not None:
            return self.related(cond.related, params)
        expr, column = self._known(cond.field)
        op, raw = cond.operator, cond.value
        if op == UNKNOWN:
            raise _Unusable(f"the operator in {raw[:40]!r} is not supported by the sandbox")
        if column.reference is not None and op in _ON_DISPLAY:
            # comparing the sys_id instead would widen NOT LIKE (no sys_id contains a name)
            raise _Unusable(f"{op} on a reference field (an instance compares the display value)")
        if column.type == "GUID" and op in _ON_DISPLAY and raw != raw.lower():
            # an instance matches sys_ids in any case; a case-sensitive NOT LIKE or > on the
            # (lower-case) stored ids would answer more rows. Lower-case values, what clients
            # send, keep the plain comparison that the sys_id index serves.
            expr, raw = f"lower({expr})", raw.lower()
        if op in ("ISEMPTY", "EMPTYSTRING"):
            return f"{expr} = ''"
        if op == "ISNOTEMPTY":
            return f"{expr} != ''"
        if op == "ANYTHING":
            return "1"
        if op == "INSTANCEOF":
            return self.instance_of(expr, column, raw, params)
        if op in ("SAMEAS", "NSAMEAS"):
            return self.same_as(expr, column, op, raw)
        if op in ("IN", "NOT IN"):
            return self.in_list(expr, column, op, raw, params)
        if op in _RANGE:
            return self.compare(expr, column, op, raw, params)
        scalar = self.scalar(raw, column, dated=op in ("=", "!="))
        text = self.text(expr, column)
        if op in ("=", "!="):
            if not scalar:
                return f"{expr} {op} ''"
            if column.type == "GUID":
                variants = _guid_variants(scalar)
                params.extend(variants)
                marks = ", ".join("?" * len(variants))
                return f"{expr} {'IN' if op == '=' else 'NOT IN'} ({marks})"
            params.append(self.value(scalar, column))
            return f"{text} = ?" if op == "=" else f"({expr} != '' AND {text} != ?)"
        value = self.value(scalar, column)
        if not value:  # contains / starts with / ends with "": every non-empty value
            return "0" if op == "NOT LIKE" else f"{expr} != ''"
        if op in ("LIKE", "NOT LIKE"):
            params.append(value)
            if op == "LIKE":
                return f"instr({text}, ?) > 0"
            return f"({expr} != '' AND instr({text}, ?) = 0)"
        upper = _successor(value) if op == "STARTSWITH" else None
        if upper is not None:
            # a range on the (folded) value, so an index on the expression serves it
            params.extend((value, upper))
            return f"({text} >= ? AND {text} < ?)"
        params.extend((value, value))
        if op == "STARTSWITH":
            return f"substr({text}, 1, length(?)) = ?"
        return f"substr({text}, -length(?)) = ?"

    def in_list(
        self, expr: str, column: Column, op: str, raw: str, params: list[str | float]
    ) -> str:
        if "javascript:" in raw.lower():
            raise _Unusable("javascript: values in IN lists are not evaluated by the sandbox")
        items = [item for item in raw.split(",") if item]
        values: list[str] = []
        for item in items:
            values.extend(
                _guid_variants(item) if column.type == "GUID" else [self.value(item, column)]
            )
        text = self.text(expr, column)
        marks = ", ".join("?" * len(values))
        params.extend(values)
        if op == "NOT IN":
            return f"({expr} != '' AND {text} NOT IN ({marks}))" if values else f"{expr} != ''"
        found = f"{text} IN ({marks})" if values else "0"
        if len(items) < len(raw.split(",")):  # an empty item matches empty values, as "=" does
            return f"({found} OR {expr} = '')"
        return found

    def related(self, query: RelatedQuery, params: list[str | float]) -> str:
        """A correlated count of the related rows that match the RLQUERY's conditions."""
        if self.alias != "t":
            raise _Unusable("a nested RLQUERY or JOIN is not supported by the sandbox")
        if not self.schema.has(query.table):
            raise _Unusable(f"RLQUERY or JOIN on the unknown table {query.table!r}")
        link = self.schema.columns(query.table).get(query.field)
        kind = "RLQUERY" if query.owner is None else "JOIN"
        if query.owner is not None:  # JOIN: any field of the joined table, equal to primary
            if query.owner not in self.schema.ancestors(self.table):
                raise _Unusable(f"JOIN on {query.owner}, not on {self.table}")
            primary = self.schema.columns(self.table).get(query.primary)
            if link is None or primary is None:
                raise _Unusable(f"JOIN on a field the sandbox does not know ({query.field})")
            target = f't."{primary.name}"'
        elif link is None or link.reference is None:
            raise _Unusable(f"RLQUERY: {query.table}.{query.field} is not a reference field")
        elif link.reference not in self.schema.ancestors(self.table):
            raise _Unusable(
                f"RLQUERY: {query.table}.{query.field} refers to {link.reference}, "
                f"not to {self.table}"
            )
        else:
            target = "t.sys_id"
        inner = _Builder(
            self.schema, query.table, self.case_sensitive, self.now, self.tz, alias="r"
        )
        inner_params: list[str | float] = []
        problems: list[Invalid] = list(query.query.invalid)
        where = _where(inner, query.query, inner_params, problems)
        if problems or query.query.order:
            # also unknown fields: dropping a condition here would count more related rows
            detail = "; ".join(f"{i.part!r}: {i.problem}" for i in problems) or "ORDERBY"
            raise _Unusable(f"{kind} with a part the sandbox does not evaluate ({detail})")
        root = self.schema.root(query.table)
        sql = (
            f'(SELECT COUNT(*) FROM "{root}" AS r {" ".join(inner.join_sql)} '
            f'WHERE r."{link.name}" = {target} AND r."{link.name}" != \'\' AND {where}'
        )
        params.extend(inner_params)
        if root != query.table:
            classes = self.schema.descendants(query.table)
            params.extend(classes)
            sql += f" AND r.sys_class_name IN ({', '.join('?' * len(classes))})"
        params.append(query.count)
        return f"{sql}) {query.operator} ?"

    def instance_of(self, expr: str, column: Column, raw: str, params: list[str | float]) -> str:
        if column.type != "sys_class_name":
            raise _Unusable("INSTANCEOF is supported on sys_class_name only")
        if not self.schema.has(raw):
            return "0"  # no such class: nothing is an instance of it
        classes = self.schema.descendants(raw)
        params.extend(classes)
        return f"{expr} IN ({', '.join('?' * len(classes))})"

    def same_as(self, expr: str, column: Column, op: str, raw: str) -> str:
        other = self.column(raw)
        if other is None:
            raise _Unusable(
                f"{op} compares with the field {raw!r}, which the sandbox does not know"
            )
        other_expr, other_column = other
        left, right = self.text(expr, column), self.text(other_expr, other_column)
        compare = "=" if op == "SAMEAS" else "!="
        return f"({expr} != '' AND {other_expr} != '' AND {left} {compare} {right})"

    def compare(
        self, expr: str, column: Column, op: str, raw: str, params: list[str | float]
    ) -> str:
        if op == "BETWEEN":
            bounds = raw.split("@")
            if len(bounds) != 2:
                raise _Unusable("BETWEEN takes two values separated by '@'")
        elif op == "ON":
            pieces = raw.split("@")
            if len(pieces) != 3:
                raise _Unusable("ON is supported as <label>@<start>@<end> only")
            bounds = pieces[1:]
        else:
            bounds = [raw]
        if op == "ON" and column.type not in DATE_TYPES:
            raise _Unusable("ON is supported on date and date-time fields only")
        values: list[str | float]
        if column.numeric:
            try:
                values = [float(b) for b in bounds]
            except ValueError:
                raise _Unusable(f"{raw!r} is not a number for an integer field") from None
            subject = f"CAST({expr} AS REAL)"
        else:
            values = [self.value(self.scalar(b, column, dated=True), column) for b in bounds]
            subject = self.text(expr, column)
        params.extend(values)
        if op in ("BETWEEN", "ON"):
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


def _where(
    builder: _Builder,
    query: EncodedQuery,
    params: list[str | float],
    invalid: list[Invalid],
    extra: tuple[Condition, ...] = (),
) -> str:
    """The WHERE expression of a query's groups; unusable parts go to ``invalid``."""

    def piece(cond: Condition) -> str | None:
        try:
            return builder.condition(cond, params)
        except _Unusable as exc:
            if cond.related is not None:
                shown = cond.value
            else:  # the part as written: an unknown operator is still part of the value
                operator = "" if cond.operator == UNKNOWN else cond.operator
                shown = f"{cond.field}{operator}{cond.value}"
            invalid.append(Invalid(shown, exc.problem, exc.kind))
            return None

    groups: list[str] = []
    for group in query.groups:
        clauses: list[str] = []
        for clause in (*group, *((c,) for c in extra)):
            sql = [s for s in (piece(cond) for cond in clause) if s is not None]
            if sql:
                clauses.append(_balanced(sql, "OR"))
        if clauses:
            groups.append(_balanced(clauses, "AND"))
    if not query.groups and extra:
        extra_sql = [s for s in (piece(c) for c in extra) if s is not None]
        groups.append(" AND ".join(extra_sql) or "1")
    return _balanced(groups, "OR") if groups else "1"


def compile_query(
    schema: Schema,
    table: str,
    query: EncodedQuery,
    *,
    case_sensitive: bool = False,
    extra: tuple[Condition, ...] = (),
    now: datetime | None = None,
    tz: tzinfo = timezone.utc,
) -> Compiled:
    """Compile ``query`` on ``table`` (which must exist) into SQL.

    Args:
        schema: the instance schema.
        table: the table queried (its hierarchy's SQL table is read).
        query: the parsed query.
        case_sensitive: compare strings exactly instead of case-folded.
        extra: conditions AND-ed to every group (``name=value`` URL filters).
        now: the instance clock's current time, for ``javascript:gs.*`` date helpers.
        tz: the requesting user's time zone, for the same helpers.

    Returns:
        The SQL pieces; parts left out are listed in ``invalid`` (``ignored`` for
        unknown fields, ``unsupported`` for what the sandbox cannot evaluate).
    """
    builder = _Builder(schema, table, case_sensitive, now or datetime.now(timezone.utc), tz)
    params: list[str | float] = []
    invalid = list(query.invalid)
    where = _where(builder, query, params, invalid, extra)
    root = schema.root(table)
    if root != table:
        classes = schema.descendants(table)
        params.extend(classes)
        where = f"({where}) AND t.sys_class_name IN ({', '.join('?' * len(classes))})"
    order: list[str] = []
    for ordering in query.order:
        pieces = builder.order(ordering)
        if pieces is None:
            invalid.append(Invalid(f"ORDERBY{ordering.field}", "unknown field", "ignored"))
        else:
            order.extend(pieces)
    order.append("t.sys_id ASC")
    source = " ".join([f'"{root}" AS t', *builder.join_sql])
    return Compiled(source, where, ", ".join(order), tuple(params), tuple(invalid))
