"""OData query options as Graph applies them here: ``$filter``, ``$select``, ``$top``, paging.

``$filter`` takes comparisons (``eq``, ``ne``, ``le``, ``ge``, ``lt``, ``gt``)
of one property with a literal, joined by ``and``. Paging is server-driven: a
page holds at most the configured page size (``$top`` may lower it) and an
``@odata.nextLink`` carries an opaque, signed ``$skiptoken``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from attrs import frozen

__all__ = ["GraphError", "Query", "SkipTokens", "parse_query"]

_CLAUSE = re.compile(
    r"\s*(?P<prop>[A-Za-z][A-Za-z0-9]*)\s+(?P<op>eq|ne|le|ge|lt|gt)\s+"
    r"(?P<value>'(?:[^']|'')*'|-?\d+|true|false|null)\s*",
    re.IGNORECASE,
)
_AND = re.compile(r"and\s", re.IGNORECASE)
_KNOWN_OPTIONS = {"$filter", "$select", "$top", "$skip", "$skiptoken", "$count"}
_UNSUPPORTED = {"$orderby", "$expand", "$search", "$format", "$apply"}


class GraphError(Exception):
    """A request Graph refuses: the status, Graph's error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


Predicate = Callable[[Mapping[str, Any]], bool]


@frozen
class Query:
    """The parsed query options of one collection request."""

    filter: Predicate | None
    select: tuple[str, ...] | None
    top: int | None
    skip: int
    count: bool
    skiptoken: str | None
    canonical: str  # the options that define the result set, for signing skip tokens


def parse_query(args: Mapping[str, str], entity: str, properties: Sequence[str]) -> Query:
    """Check and parse the OData options of a request for a collection of ``entity``.

    Raises:
        GraphError: 400 for an unknown or unsupported option, a bad clause or property.
    """
    for name in args:
        if name.startswith("$") and name not in _KNOWN_OPTIONS:
            verb = "is not supported" if name in _UNSUPPORTED else "is not allowed"
            raise GraphError(400, "BadRequest", f"Query option '{name}' {verb} on this resource.")
    select = None
    if "$select" in args:
        select = tuple(p.strip() for p in args["$select"].split(",") if p.strip())
        for prop in select:
            _check_property(prop, entity, properties)
    predicate = _parse_filter(args["$filter"], entity, properties) if "$filter" in args else None
    top = _non_negative(args, "$top", minimum=1)
    skip = _non_negative(args, "$skip", minimum=0) or 0
    count = args.get("$count", "false").lower() == "true"
    canonical = "\n".join(f"{k}={args.get(k, '')}" for k in ("$filter", "$select", "$top"))
    return Query(predicate, select, top, skip, count, args.get("$skiptoken"), canonical)


def _non_negative(args: Mapping[str, str], name: str, minimum: int) -> int | None:
    if name not in args:
        return None
    text = args[name].strip()
    if not text.isdigit() or int(text) < minimum:
        raise GraphError(
            400, "BadRequest", f"Invalid value '{args[name]}' for query option {name}."
        )
    return int(text)


def _check_property(prop: str, entity: str, properties: Sequence[str]) -> None:
    if prop not in properties:
        raise GraphError(
            400, "BadRequest", f"Could not find a property named '{prop}' on type '{entity}'."
        )


def _parse_filter(text: str, entity: str, properties: Sequence[str]) -> Predicate:
    clauses: list[tuple[str, str, object]] = []
    pos = 0
    while True:
        match = _CLAUSE.match(text, pos)
        if match is None:
            raise GraphError(400, "BadRequest", f"Invalid filter clause: '{text[pos:].strip()}'.")
        _check_property(match["prop"], entity, properties)
        clauses.append((match["prop"], match["op"].lower(), _literal(match["value"])))
        pos = match.end()
        if pos >= len(text):
            break
        joined = _AND.match(text, pos)
        if joined is None:
            raise GraphError(400, "BadRequest", f"Invalid filter clause: '{text[pos:].strip()}'.")
        pos = joined.end()

    def predicate(item: Mapping[str, Any]) -> bool:
        return all(_compare(item.get(prop), op, value) for prop, op, value in clauses)

    return predicate


def _literal(token: str) -> object:
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    lowered = token.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    return int(token)


def _compare(actual: object, op: str, expected: object) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        # Graph compares enum and string values case-insensitively
        actual, expected = actual.casefold(), expected.casefold()
    if op in ("eq", "ne"):
        return (actual == expected) == (op == "eq")
    if actual is None or expected is None or type(actual) is not type(expected):
        return False
    left: Any = actual
    outcome = {"le": left <= expected, "ge": left >= expected, "lt": left < expected,
               "gt": left > expected}[op]  # fmt: skip
    return bool(outcome)


class SkipTokens:
    """Opaque skip tokens: an offset, signed together with the options it belongs to."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(16)

    def make(self, offset: int, canonical: str) -> str:
        """A token for continuing at ``offset`` of the result set ``canonical`` describes."""
        body = f"{offset}.{self._sign(offset, canonical)}"
        return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")

    def read(self, token: str, canonical: str) -> int:
        """The offset in ``token``.

        Raises:
            GraphError: 400 for a token that is damaged or belongs to other options.
        """
        try:
            body = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            offset_text, signature = body.split(".", 1)
            offset = int(offset_text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise GraphError(400, "BadRequest", "The skip token is not valid.") from exc
        if offset < 0 or not hmac.compare_digest(signature, self._sign(offset, canonical)):
            raise GraphError(400, "BadRequest", "The skip token is not valid.")
        return offset

    def _sign(self, offset: int, canonical: str) -> str:
        digest = hmac.new(self._key, f"{offset}\n{canonical}".encode(), hashlib.sha256)
        return digest.hexdigest()[:20]
