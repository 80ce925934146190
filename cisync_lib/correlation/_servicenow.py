"""``ServiceNowUserDirectory``: bulk candidate fetching from ``sys_user`` over a connection.

Keyed mode sends chunked ``fieldIN...^ORfieldIN...`` queries; snapshot mode
reads ``sys_user`` once (only the needed fields). Inactive users are never
filtered out on the server. Values that could change the meaning of an
encoded query never go into one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, Protocol

from cisync_lib._errors_remote import ServiceNowError
from cisync_lib._records import SnUser

from ._directory import DirectoryResult, FetchRequest, UserIndex
from ._text import has_control, loose_fold
from ._types import LookupKey, record_value

__all__ = ["QueryConnection", "ServiceNowUserDirectory", "is_query_safe"]

logger = logging.getLogger(__name__)


class QueryConnection(Protocol):
    """The part of ``ServiceNowConnection`` (contract 4.4) the directory uses."""

    def query(
        self,
        table: str,
        *,
        query: str = "",
        fields: Sequence[str] = (),
        page_size: int | None = None,
    ) -> Iterator[dict[str, str]]:
        """Rows of ``table`` matching the encoded query, paged."""
        ...


def is_query_safe(value: str) -> bool:
    """Whether ``value`` can stand in an encoded-query ``IN`` list or ``LIKE`` unchanged.

    ``^`` and ``,`` are query syntax, ``=`` can start a condition, control
    characters can end one, and ``javascript:`` is evaluated by the server.
    """
    return (
        bool(value)
        and value == value.strip()
        and not any(c in value for c in "^,=")
        and not has_control(value)
        and "javascript:" not in value.casefold()
    )


class ServiceNowUserDirectory:
    """Fetches ``sys_user`` candidates in bulk through a ServiceNow connection.

    Args:
        conn: a ``ServiceNowConnection`` (anything with ``query(table, query=, fields=)``).
        table: the user table.
        mode: ``auto`` (snapshot above the request's keyed threshold), ``keyed``
            or ``snapshot``.
        keyed_threshold: overrides the request's threshold (distinct values).
        chunk_size: overrides the request's values per ``IN`` query.
        max_query_chars: also closes a chunk before its values exceed this length.
        unsafe_values: ``skip`` (report such names ``UNSAFE_QUERY_VALUE``) or
            ``snapshot`` (read a snapshot instead, which resolves them).
    """

    def __init__(
        self,
        conn: QueryConnection,
        *,
        table: str = "sys_user",
        mode: Literal["auto", "keyed", "snapshot"] = "auto",
        keyed_threshold: int | None = None,
        chunk_size: int | None = None,
        max_query_chars: int = 4000,
        unsafe_values: Literal["skip", "snapshot"] = "skip",
    ) -> None:
        self.conn = conn
        self.table = table
        self.mode = mode
        self.keyed_threshold = keyed_threshold
        self.chunk_size = chunk_size
        self.max_query_chars = max_query_chars
        self.unsafe_values = unsafe_values

    def _requests(self) -> int:
        return int(getattr(self.conn, "request_count", 0))

    def fetch(self, request: FetchRequest) -> DirectoryResult:
        """Fetch candidates for ``request`` in keyed or snapshot mode."""
        keys = [k for k in request.keys if k.value]
        if not keys:
            return DirectoryResult(index=UserIndex((), loose=True), mode="none")
        threshold = self.keyed_threshold or request.keyed_threshold
        distinct = {k.value for k in keys}
        unsafe = {k for k in keys if not is_query_safe(k.value)}
        mode = self.mode
        if mode == "auto":
            mode = "snapshot" if len(distinct) > threshold else "keyed"
        if mode == "keyed" and unsafe and self.unsafe_values == "snapshot":
            mode = "snapshot"
        before = self._requests()
        if mode == "snapshot":
            index, failed = self._snapshot(keys, request.fields)
            return DirectoryResult(
                index=index, failed=failed, mode="snapshot", requests=self._requests() - before
            )
        refused = dict.fromkeys(unsafe, "value not safe in an encoded query")
        index, failed = self._keyed(
            [k for k in keys if k not in unsafe],
            request.fields,
            self.chunk_size or request.chunk_size,
        )
        return DirectoryResult(
            index=index,
            failed=failed,
            refused=refused,
            mode="keyed",
            requests=self._requests() - before,
        )

    def _rows(self, query: str, fields: Sequence[str]) -> list[SnUser]:
        extra = tuple(f for f in fields if f not in SnUser.FIELDS)
        # a whole-table snapshot is read in parallel sys_id ranges when the connection can
        read_all = getattr(self.conn, "query_all", None) if not query else None
        reader = read_all if callable(read_all) else self.conn.query
        rows = reader(self.table, query=query, fields=tuple(fields))
        return [SnUser.from_row(row, extra) for row in rows]

    def _snapshot(
        self, keys: Sequence[LookupKey], fields: Sequence[str]
    ) -> tuple[UserIndex, dict[LookupKey, str]]:
        try:
            users = self._rows("", fields)
        except ServiceNowError as exc:
            return UserIndex((), loose=True), dict.fromkeys(keys, str(exc))
        if users and all(u.active for u in users):
            logger.warning(
                "the %s snapshot holds no inactive user: the account may not be allowed to read "
                "them, and leavers will look like unknown users",
                self.table,
            )
        return UserIndex(users, loose=True), {}

    def _keyed(
        self, keys: Sequence[LookupKey], fields: Sequence[str], chunk_size: int
    ) -> tuple[UserIndex, dict[LookupKey, str]]:
        found: dict[str, SnUser] = {}
        failed: dict[LookupKey, str] = {}
        chunks = list(self._chunks(keys, chunk_size))

        def lookup(query: str) -> list[SnUser] | ServiceNowError:
            try:
                return self._rows(query, fields)
            except ServiceNowError as exc:
                return exc

        # the chunks are independent: read them at once over the connection's sessions
        workers = max(1, min(int(getattr(self.conn, "sessions", 1)), len(chunks)))
        if workers > 1:
            with ThreadPoolExecutor(workers, thread_name_prefix="cisync-users") as pool:
                answers = list(pool.map(lookup, [query for _keys, query in chunks]))
        else:
            answers = [lookup(query) for _keys, query in chunks]
        for (chunk_keys, _query), users in zip(chunks, answers, strict=True):
            if isinstance(users, ServiceNowError):
                logger.warning("sys_user lookup failed for %d key(s): %s", len(chunk_keys), users)
                failed.update(dict.fromkeys(chunk_keys, str(users)))
                continue
            stray = [u for u in users if not _answers(u, chunk_keys)]
            if stray:  # a malformed query can return every row; re-checks keep them harmless
                logger.warning(
                    "a sys_user query returned %d row(s) matching none of its values", len(stray)
                )
            found.update((u.sys_id, u) for u in users)
        return UserIndex(found.values(), loose=True), failed

    def _chunks(
        self, keys: Iterable[LookupKey], chunk_size: int
    ) -> Iterator[tuple[list[LookupKey], str]]:
        # values asked in the same fields share one query: emailIN a,b ^OR user_nameIN a,b
        fields_of: dict[str, set[tuple[str, str]]] = {}
        for key in keys:
            fields_of.setdefault(key.value, set()).add((key.field, key.op))
        groups: dict[tuple[tuple[str, str], ...], list[str]] = {}
        for value, wanted in fields_of.items():
            groups.setdefault(tuple(sorted(wanted)), []).append(value)
        for group, values in groups.items():
            for chunk in _split(values, chunk_size, self.max_query_chars):
                chunk_keys = [
                    LookupKey(field=f, value=v, op="token" if op == "token" else "eq")
                    for f, op in group
                    for v in chunk
                ]
                yield chunk_keys, _encoded(group, chunk)


def _split(values: Sequence[str], size: int, max_chars: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    length = 0
    for value in values:
        if chunk and (len(chunk) >= size or length + len(value) + 1 > max_chars):
            yield chunk
            chunk, length = [], 0
        chunk.append(value)
        length += len(value) + 1
    if chunk:
        yield chunk


def _encoded(wanted: Iterable[tuple[str, str]], values: Sequence[str]) -> str:
    parts: list[str] = []
    for field_name, op in wanted:
        if op == "token":
            parts.extend(f"{field_name}LIKE{v}" for v in values)
        else:
            parts.append(f"{field_name}IN{','.join(values)}")
    return "^OR".join(parts)


def _answers(user: SnUser, keys: Sequence[LookupKey]) -> bool:
    # would the server's (case- and accent-insensitive) comparison return this row for a key?
    for key in keys:
        raw = loose_fold(record_value(user, key.field))
        value = loose_fold(key.value)
        if raw == value if key.op == "eq" else value in raw:
            return True
    return False
