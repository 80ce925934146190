"""Encoded-query building that can never widen a query.

ServiceNow silently drops query parts it cannot parse (unless
``glide.invalid_query.returns_no_rows`` is set), so a value that smuggles a
``^`` or an ``IN`` list with a stray comma does not fail: it matches *more*
rows. Every value that reaches an encoded query goes through these helpers,
which escape what the grammar allows (``^`` as ``^^`` in a plain value) and
refuse the rest with :class:`~cisync_lib.UnsafeQueryError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cisync_lib.errors import UnsafeQueryError

__all__ = [
    "q_and",
    "q_eq",
    "q_gt",
    "q_in",
    "q_is_empty",
    "q_or_eq",
    "q_startswith",
]

_FIELD = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# characters that would end or split an IN-list element
_IN_UNSAFE = re.compile(r"[,^=\x00-\x1f\x7f]")


def _field(name: str) -> str:
    if not _FIELD.fullmatch(name):
        raise UnsafeQueryError(field=name, value="", problem="not a valid field name")
    return name


def _plain(field: str, value: str) -> str:
    """Escape a value that ends at the next unescaped ``^``."""
    if not value:
        # "field=" is not an equality with "" everywhere; some parsers drop it (widens)
        raise UnsafeQueryError(field=field, value=value, problem="empty value (use q_is_empty)")
    if _CONTROL.search(value):
        raise UnsafeQueryError(field=field, value=value, problem="control character in value")
    if value.casefold().lstrip().startswith("javascript:"):
        # the instance evaluates such values as server-side script
        raise UnsafeQueryError(field=field, value=value, problem="javascript: value")
    if value.startswith("^") or value.endswith("^"):
        # "^^^" next to a separator is ambiguous to some parsers: refuse rather than guess
        raise UnsafeQueryError(field=field, value=value, problem="value starts or ends with '^'")
    return value.replace("^", "^^")


def q_eq(field: str, value: str) -> str:
    """``field=value``, with ``^`` escaped.

    Raises:
        UnsafeQueryError: for an invalid field name, an empty value, a control
            character, or a value starting or ending with ``^``.
    """
    return f"{_field(field)}={_plain(field, value)}"


def q_gt(field: str, value: str) -> str:
    """``field>value`` (lexical for strings; used for keyset paging by sys_id)."""
    return f"{_field(field)}>{_plain(field, value)}"


def q_ge(field: str, value: str) -> str:
    """``field>=value`` (lexical for strings; used to split a read into sys_id ranges)."""
    return f"{_field(field)}>={_plain(field, value)}"


def q_lt(field: str, value: str) -> str:
    """``field<value`` (lexical for strings; used to split a read into sys_id ranges)."""
    return f"{_field(field)}<{_plain(field, value)}"


def q_startswith(field: str, prefix: str) -> str:
    """``fieldSTARTSWITHprefix``, with ``^`` escaped."""
    return f"{_field(field)}STARTSWITH{_plain(field, prefix)}"


def q_is_empty(field: str) -> str:
    """``fieldISEMPTY``."""
    return f"{_field(field)}ISEMPTY"


def q_in(field: str, values: Iterable[str]) -> str:
    """``fieldINa,b,c``.

    An ``IN`` list has no escape for ``,`` (nor safely for ``^`` or ``=``), so
    such values are refused, as is an empty list (an empty ``IN`` is dropped by
    the instance, which would widen the query to every row).

    Raises:
        UnsafeQueryError: for an unsafe or empty element, or an empty list.
    """
    items = list(values)
    if not items:
        raise UnsafeQueryError(field=field, value="", problem="empty IN list would match every row")
    for item in items:
        if not item or _IN_UNSAFE.search(item) or "javascript:" in item.casefold():
            raise UnsafeQueryError(
                field=field,
                value=item,
                problem="IN-list value is empty, contains , ^ = or a control character, "
                "or is script",
            )
    return f"{_field(field)}IN{','.join(items)}"


def q_or_eq(field: str, values: Iterable[str]) -> str:
    """``field=a^ORfield=b``: an OR of equalities, for values an IN list cannot carry.

    Raises:
        UnsafeQueryError: as :func:`q_eq`, or for an empty list.
    """
    items = [q_eq(field, v) for v in values]
    if not items:
        raise UnsafeQueryError(field=field, value="", problem="empty OR list would match every row")
    return "^OR".join(items)


def q_and(*parts: str) -> str:
    """Join conditions with ``^``, skipping empty ones."""
    return "^".join(p for p in parts if p)
