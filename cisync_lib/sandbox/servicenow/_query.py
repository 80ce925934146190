"""Parsing ServiceNow encoded queries (``active=true^nameSTARTSWITHa^ORDERBYname``).

Grammar, as documented for the Table API (``sysparm_query``):

* ``^`` joins conditions with AND, ``^OR`` joins the condition to the one
  before it with OR (``a^b^ORc`` is ``a AND (b OR c)``), ``^NQ`` starts a new
  top-level group OR-ed with the previous ones; ``^EQ`` ends a query (ignored);
* ``ORDERBY<field>`` / ``ORDERBYDESC<field>`` anywhere, applied globally, first is primary;
* a condition is ``<field><OPERATOR><value>`` with no separator: the field is
  the longest lowercase ``[a-z0-9_.]`` prefix (dots walk through references),
  the operator the longest known token, the rest is the value;
* ``^^`` is a literal ``^`` inside a value.

Parts that cannot be parsed are kept as :class:`Invalid` so the caller can
ignore them (ServiceNow's default) or refuse the query (strict mode).
"""

from __future__ import annotations

import re

from attrs import frozen

__all__ = [
    "OPERATORS",
    "VALUELESS",
    "Condition",
    "EncodedQuery",
    "Invalid",
    "Order",
    "parse_query",
    "split_parts",
]

#: operators, longest first so that ``NOT LIKE`` wins over ``LIKE`` and ``<=`` over ``<``.
OPERATORS = (
    "ISNOTEMPTY",
    "STARTSWITH",
    "EMPTYSTRING",
    "ENDSWITH",
    "NOT LIKE",
    "ANYTHING",
    "BETWEEN",
    "ISEMPTY",
    "NOT IN",
    "LIKE",
    "!=",
    "<=",
    ">=",
    "IN",
    "=",
    "<",
    ">",
)
#: operators that take no value.
VALUELESS = frozenset({"ISEMPTY", "ISNOTEMPTY", "EMPTYSTRING", "ANYTHING"})

_FIELD = re.compile(r"[a-z0-9_.]+")


@frozen
class Condition:
    """One ``<field><operator><value>`` condition."""

    field: str
    operator: str
    value: str


@frozen
class Order:
    """One ``ORDERBY`` / ``ORDERBYDESC`` clause."""

    field: str
    descending: bool = False


@frozen
class Invalid:
    """A part of the query that was not understood, and why."""

    part: str
    problem: str


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
        return Invalid(text, "no field name")
    field = match.group(0)
    rest = text[match.end() :]
    for operator in OPERATORS:
        if rest.startswith(operator):
            value = rest[len(operator) :]
            if operator in VALUELESS and value:
                return Invalid(text, f"{operator} takes no value")
            if value.startswith("javascript:"):
                return Invalid(text, "javascript: values are not supported")
            if field.startswith(".") or field.endswith(".") or ".." in field:
                return Invalid(text, "malformed dot-walk")
            return Condition(field, operator, value)
    return Invalid(text, "unknown operator")


def parse_query(text: str) -> EncodedQuery:
    """Parse an encoded query into groups, ordering and invalid parts."""
    groups: list[list[list[Condition]]] = [[]]
    order: list[Order] = []
    invalid: list[Invalid] = []
    for raw in split_parts(text):
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
        condition = parse_condition(body)
        if isinstance(condition, Invalid):
            invalid.append(Invalid(raw, condition.problem))
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
