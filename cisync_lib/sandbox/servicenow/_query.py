"""Parsing ServiceNow encoded queries (``active=true^nameSTARTSWITHa^ORDERBYname``).

Grammar, as documented for the Table API (``sysparm_query``):

* ``^`` joins conditions with AND, ``^OR`` joins the condition to the one
  before it with OR (``a^b^ORc`` is ``a AND (b OR c)``), ``^NQ`` starts a new
  top-level group OR-ed with the previous ones; ``^EQ`` ends a query (ignored);
* ``ORDERBY<field>`` / ``ORDERBYDESC<field>`` anywhere, applied globally, first is primary;
* a condition is ``<field><OPERATOR><value>`` with no separator: the field is
  the longest lowercase ``[a-z0-9_.]`` prefix (dots walk through references),
  the operator the longest known token, the rest is the value;
* ``^^`` is a literal ``^`` inside a value;
* ``RLQUERY<table>.<field>,<op><n>[,m2m]^<conditions>^ENDRLQUERY`` keeps the
  records for which the count of ``<table>`` rows referring to them through
  ``<field>`` and matching the conditions compares with ``n`` as ``op`` says.

The parser never guesses. A part is kept as :class:`Invalid` with one of two kinds:

* ``unsupported``: valid (or possibly valid) ServiceNow syntax the sandbox does
  not evaluate (a ``JOIN`` followed by more conditions, an operator it does
  not know, a ``javascript:`` value it cannot evaluate, an ``RLQUERY`` with
  such a part inside). The Table API always refuses it:
  ignoring it would return more rows than a real instance.
* ``ignored``: a part a real instance itself drops (an unknown field, per
  ``glide.invalid_query.returns_no_rows=false``); ignored by default,
  refused in strict mode. Whether a field is known is the compiler's call
  (:mod:`._sql`), which has the schema.

A condition whose operator is not known keeps :data:`UNKNOWN` as its operator
so the compiler can tell an unknown field (ignored) from an unknown operator on
a known field (unsupported).
"""

from __future__ import annotations

import re
from collections import deque
from typing import Literal

from attrs import frozen

__all__ = [
    "ALIASES",
    "OPERATORS",
    "UNKNOWN",
    "VALUELESS",
    "Condition",
    "EncodedQuery",
    "Invalid",
    "InvalidKind",
    "Order",
    "RelatedQuery",
    "parse_query",
    "split_parts",
]

#: operators the sandbox evaluates, longest first so that ``NOT LIKE`` wins over
#: ``LIKE``, ``INSTANCEOF`` over ``IN`` and ``<=`` over ``<``.
OPERATORS = (
    "INSTANCEOF",
    "ISNOTEMPTY",
    "STARTSWITH",
    "EMPTYSTRING",
    "ANYTHING",
    "ENDSWITH",
    "NOT LIKE",
    "NOTLIKE",
    "BETWEEN",
    "ISEMPTY",
    "NSAMEAS",
    "NOT IN",
    "SAMEAS",
    "LIKE",
    "!=",
    "!*",
    "<=",
    ">=",
    "IN",
    "ON",
    "=",
    "<",
    ">",
    "*",
    "%",
)
#: documented shorthands and spellings, mapped to the operator they stand for.
ALIASES = {"*": "LIKE", "!*": "NOT LIKE", "NOTLIKE": "NOT LIKE", "%": "ENDSWITH"}
#: operators that take no value.
VALUELESS = frozenset({"ISEMPTY", "ISNOTEMPTY", "EMPTYSTRING", "ANYTHING"})
#: the operator of a condition whose operator the sandbox does not know.
UNKNOWN = "?"

_FIELD = re.compile(r"[a-z][a-z0-9_.]*")
_OPERATOR_WORD = re.compile(r"[A-Z_]+|[^A-Za-z0-9_]+")

InvalidKind = Literal["unsupported", "ignored"]


@frozen
class Condition:
    """One ``<field><operator><value>`` condition (operator :data:`UNKNOWN` if not known).

    A related-list condition (``RLQUERY...^ENDRLQUERY``) has the operator
    ``RLQUERY``, the part as written as its value and the parsed parts in ``related``.
    """

    field: str
    operator: str
    value: str
    related: RelatedQuery | None = None


@frozen
class RelatedQuery:
    """``RLQUERY<table>.<field>,<count>[,m2m]^<query>^ENDRLQUERY``: records by related-row count.

    A ``JOIN<owner>.<primary>=<table>.<field>!<condition>`` is the same with
    ``> 0``: the records for which a joined row matches.

    Attributes:
        table: the related (joined) table.
        field: its field that refers to the queried record.
        operator: the count comparison (``>``, ``>=``, ``<``, ``<=``, ``=``, ``!=``).
        count: the number compared with.
        query: the conditions on the related rows.
        owner: for a JOIN, the table named on its left (the queried table or an ancestor).
        primary: the queried table's field that ``field`` must equal (``sys_id``).
    """

    table: str
    field: str
    operator: str
    count: int
    query: EncodedQuery
    owner: str | None = None
    primary: str = "sys_id"


@frozen
class Order:
    """One ``ORDERBY`` / ``ORDERBYDESC`` clause."""

    field: str
    descending: bool = False


@frozen
class Invalid:
    """A part of the query that the sandbox does not use, and why.

    Attributes:
        part: the part as written.
        problem: what is wrong with it.
        kind: ``unsupported`` (always refused over HTTP) or ``ignored`` (what a
            real instance ignores; refused in strict mode).
    """

    part: str
    problem: str
    kind: InvalidKind = "unsupported"


@frozen
class EncodedQuery:
    """A parsed encoded query.

    Attributes:
        groups: the ``^NQ`` groups (OR-ed); each is a tuple of AND-ed clauses, each
            clause a tuple of OR-ed conditions.
        order: the ordering clauses, primary first.
        invalid: the parts that could not be parsed.
    """

    groups: tuple[tuple[tuple[Condition, ...], ...], ...] = ()
    order: tuple[Order, ...] = ()
    invalid: tuple[Invalid, ...] = ()


def split_parts(text: str) -> list[str]:
    """Split on single ``^``; ``^^`` stays in the part as a literal ``^``."""
    if "^" not in text:
        return [text]
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "^":
            if text.startswith("^^", i):
                current.append("^")
                i += 2
                continue
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    parts.append("".join(current))
    return parts


def parse_condition(text: str) -> Condition | Invalid:
    """Parse one ``<field><operator><value>`` part."""
    match = _FIELD.match(text)
    if match is None:
        # JOIN..., RLQUERY..., 123TEXTQUERY321, GOTO, SUBQUERY...: keywords, not fields
        word = _OPERATOR_WORD.match(text)
        keyword = word.group(0) if word else text[:20]
        return Invalid(text, f"{keyword or 'this syntax'} is not supported by the sandbox")
    field = match.group(0)
    if field.endswith(".") or ".." in field:
        return Invalid(text, "malformed dot-walk")
    rest = text[match.end() :]
    for operator in OPERATORS:
        if rest.startswith(operator):
            value = rest[len(operator) :]
            if operator in VALUELESS and value:
                return Invalid(text, f"{operator} takes no value")
            if operator in ("IN", "NOT IN") and value.startswith("STANCEOF"):
                break  # NOT INSTANCEOF or the like: not an IN list

            return Condition(field, ALIASES.get(operator, operator), value)
    return Condition(field, UNKNOWN, rest)


_RL_HEADER = re.compile(
    r"RLQUERY(?P<table>[a-z][a-z0-9_]*)\.(?P<field>[a-z][a-z0-9_]*),"
    r"(?P<op>>=|<=|!=|>|<|=)(?P<count>[0-9]+)(?P<m2m>,m2m)?"
)


def _related(header: str, parts: deque[str]) -> Condition | Invalid:
    """Read a related-list query whose first part is ``header``, up to its ``ENDRLQUERY``."""
    body: list[str] = []
    while parts:
        raw = parts.popleft()
        if raw == "ENDRLQUERY":
            break
        body.append(raw)
    else:
        return Invalid(header, "RLQUERY without ^ENDRLQUERY")
    written = "^".join([header, *body, "ENDRLQUERY"])
    match = _RL_HEADER.fullmatch(header)
    if match is None:
        return Invalid(written, "RLQUERY is supported as RLQUERY<table>.<field>,<op><count>[,m2m]")
    if any(part.startswith(("RLQUERY", "NQ")) for part in body):
        return Invalid(written, "a nested RLQUERY or ^NQ inside RLQUERY is not supported")
    # the m2m flag names how the instance walks a many-to-many table; the count of the
    # related rows matching the conditions is the same either way
    related = RelatedQuery(
        table=match["table"],
        field=match["field"],
        operator=match["op"],
        count=int(match["count"]),
        query=parse_query("^".join(body)),
    )
    return Condition(match["table"], "RLQUERY", written, related)


_JOIN = re.compile(
    r"JOIN(?P<owner>[a-z][a-z0-9_]*)\.(?P<primary>[a-z][a-z0-9_]*)="
    r"(?P<table>[a-z][a-z0-9_]*)\.(?P<field>[a-z][a-z0-9_]*)!(?P<condition>.*)"
)


def _join(body: str, later: deque[str]) -> Condition | Invalid:
    """Read ``JOIN<table>.<field>=<joined>.<field>!<condition>``, the last condition of a query.

    pysnc writes the join's own conditions after ``!`` joined with ``^``, so where
    they end and the main query resumes is not documented: a join is evaluated
    only when nothing but ordering follows it, and then has at most one condition.
    """
    match = _JOIN.fullmatch(body)
    if match is None:
        return Invalid(body, "JOIN is supported as JOIN<table>.<field>=<table>.<field>!<condition>")
    if any(part not in ("", "EQ") and not part.startswith("ORDERBY") for part in later):
        return Invalid(
            body, "JOIN followed by further conditions (where the join's conditions end)"
        )
    related = RelatedQuery(
        table=match["table"],
        field=match["field"],
        operator=">",
        count=0,
        query=parse_query(match["condition"]),
        owner=match["owner"],
        primary=match["primary"],
    )
    return Condition(match["table"], "JOIN", body, related)


def parse_query(text: str) -> EncodedQuery:
    """Parse an encoded query into groups, ordering and invalid parts."""
    groups: list[list[list[Condition]]] = [[]]
    order: list[Order] = []
    invalid: list[Invalid] = []
    parts = deque(split_parts(text))
    while parts:
        raw = parts.popleft()
        if raw in ("", "EQ"):
            continue
        if raw.startswith("ORDERBYDESC"):
            order.append(Order(raw[len("ORDERBYDESC") :], descending=True))
            continue
        if raw.startswith("ORDERBY"):
            order.append(Order(raw[len("ORDERBY") :]))
            continue
        joiner = "AND"
        body = raw
        if raw.startswith("NQ"):
            joiner, body = "NQ", raw[2:]
        elif raw.startswith("OR"):
            joiner, body = "OR", raw[2:]
        if not body:
            if joiner == "NQ":
                groups.append([])
            continue
        if body.startswith("RLQUERY"):
            condition = _related(body, parts)
        elif body.startswith("JOIN"):
            condition = _join(body, parts)
        else:
            condition = parse_condition(body)
        if isinstance(condition, Invalid):
            invalid.append(Invalid(raw, condition.problem, condition.kind))
            if joiner == "NQ":
                groups.append([])
            continue
        if joiner == "NQ":
            groups.append([[condition]])
        elif joiner == "OR" and groups[-1]:
            groups[-1][-1].append(condition)
        else:
            groups[-1].append([condition])
    return EncodedQuery(
        groups=tuple(tuple(tuple(clause) for clause in group) for group in groups if group),
        order=tuple(order),
        invalid=tuple(invalid),
    )
