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
from typing import Literal

from attrs import define

from cisync_lib._records import SnUser
from cisync_lib.errors import ServiceNowError, ServiceNowRequestError
from cisync_lib.typing import QueryConnection

from ._directory import DirectoryResult, FetchRequest, UserIndex
from ._outcome import LookupKey, record_value
from ._text import has_control, loose_fold

__all__ = ["ServiceNowUserDirectory", "is_query_safe"]

logger = logging.getLogger(__name__)

#: the (field, op) pairs one lookup query asks a value list in
_Group = tuple[tuple[str, str], ...]


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
        tally = _Tally()
        if mode == "snapshot":
            index, failed = self._snapshot(
                keys, request.fields, self.chunk_size or request.chunk_size, tally
            )
            return tally.result(index, failed, {}, "snapshot", self._requests() - before)
        refused = dict.fromkeys(unsafe, "value not safe in an encoded query")
        index, failed = self._keyed(
            [k for k in keys if k not in unsafe],
            request.fields,
            self.chunk_size or request.chunk_size,
            tally,
        )
        return tally.result(index, failed, refused, "keyed", self._requests() - before)

    def _rows(self, query: str, fields: Sequence[str]) -> tuple[list[SnUser], int]:
        """The users matching ``query``, and how many rows the instance kept back (ACLs)."""
        extra = tuple(f for f in fields if f not in SnUser.FIELDS)
        rows: Iterable[dict[str, str]]
        users: list[SnUser] = []
        read_all = getattr(self.conn, "query_all", None) if not query else None
        try:
            # a whole-table snapshot is read in parallel sys_id ranges when the connection can
            reader = read_all if callable(read_all) else self.conn.query
            rows = reader(self.table, query=query, fields=tuple(fields))
            users.extend(SnUser.from_row(row, extra) for row in rows)
        except ServiceNowRequestError as exc:
            if not exc.hidden_rows:
                raise
            return users, exc.hidden_rows  # the last rows were all hidden
        return users, int(getattr(rows, "hidden", 0) or 0)

    def _snapshot(
        self,
        keys: Sequence[LookupKey],
        fields: Sequence[str],
        chunk_size: int,
        tally: _Tally,
    ) -> tuple[UserIndex, dict[LookupKey, str]]:
        tally.lookups += 1
        try:
            users, hidden = self._rows("", fields)
        except ServiceNowError as exc:
            tally.lookups_failed += 1
            return UserIndex((), loose=True), dict.fromkeys(keys, str(exc))
        if users and all(u.active for u in users):
            logger.warning(
                "the %s snapshot holds no inactive user: the account may not be allowed to read "
                "them, and leavers will look like unknown users",
                self.table,
            )
        index = UserIndex(users, loose=True)
        if not hidden:
            return index, {}
        # a hidden row may hold any value, even one a visible row holds too (a second
        # account with the same email): keyed lookups, whose X-Total-Count is per value
        # group, find which values have hidden rows; only those are unknown
        tally.lookups_short += 1
        logger.warning(
            "%d %s row(s) are hidden from this account (read ACLs); looking the values up "
            "by key to find which users are unknown",
            hidden,
            self.table,
        )
        safe = [k for k in keys if is_query_safe(k.value)]
        reason = _hidden_reason(self.table)
        failed = {k: reason for k in keys if not is_query_safe(k.value)}
        keyed, keyed_failed = self._keyed(safe, fields, chunk_size, tally)
        failed.update(keyed_failed)
        merged = {u.sys_id: u for u in (*index.users, *keyed.users)}
        return UserIndex(merged.values(), loose=True), failed

    def _keyed(
        self,
        keys: Sequence[LookupKey],
        fields: Sequence[str],
        chunk_size: int,
        tally: _Tally,
    ) -> tuple[UserIndex, dict[LookupKey, str]]:
        found: dict[str, SnUser] = {}
        failed: dict[LookupKey, str] = {}
        chunks = list(self._chunks(keys, chunk_size))

        def lookup(chunk: tuple[_Group, list[str]]) -> tuple[list[SnUser], int] | ServiceNowError:
            group, values = chunk
            try:
                return self._rows(_encoded(group, values), fields)
            except ServiceNowError as exc:
                return exc

        # the chunks are independent: read them at once over the connection's sessions
        workers = max(1, min(int(getattr(self.conn, "sessions", 1)), len(chunks)))
        if workers > 1:
            pool = ThreadPoolExecutor(workers, thread_name_prefix="cisync-users")
            try:
                answers = list(pool.map(lookup, chunks))
            finally:
                # on Ctrl-C, do not wait for the lookups that have not started
                pool.shutdown(wait=True, cancel_futures=True)
        else:
            answers = [lookup(chunk) for chunk in chunks]
        for (group, values), answer in zip(chunks, answers, strict=True):
            self._settle(group, values, answer, fields, tally, found, failed)
        return UserIndex(found.values(), loose=True), failed

    def _settle(
        self,
        group: _Group,
        values: list[str],
        answer: tuple[list[SnUser], int] | ServiceNowError,
        fields: Sequence[str],
        tally: _Tally,
        found: dict[str, SnUser],
        failed: dict[LookupKey, str],
    ) -> None:
        """Take in the answer to one lookup; halve a lookup that came back short."""
        chunk_keys = [
            LookupKey(field=f, value=v, op="token" if op == "token" else "eq")
            for f, op in group
            for v in values
        ]
        tally.lookups += 1
        if isinstance(answer, ServiceNowError):
            logger.warning("sys_user lookup failed for %d key(s): %s", len(chunk_keys), answer)
            tally.lookups_failed += 1
            failed.update(dict.fromkeys(chunk_keys, str(answer)))
            return
        users, hidden = answer
        stray = [u for u in users if not _answers(u, chunk_keys)]
        if stray:  # a malformed query can return every row; re-checks keep them harmless
            logger.warning(
                "a sys_user query returned %d row(s) matching none of its values", len(stray)
            )
        found.update((u.sys_id, u) for u in users)
        if not hidden:
            return
        tally.lookups_short += 1
        if len(values) > 1:
            # X-Total-Count is per query: halving finds the values whose rows are hidden
            middle = len(values) // 2
            for half in (values[:middle], values[middle:]):
                self._settle(group, half, self._ask(group, half, fields), fields, tally, found,
                             failed)  # fmt: skip
            return
        # rows holding this value are hidden (read ACLs): whoever it is, they are unknown
        tally.hidden_rows += hidden
        tally.hidden_values += 1
        logger.warning("%d %s row(s) holding a looked-up value are hidden", hidden, self.table)
        failed.update(dict.fromkeys(chunk_keys, _hidden_reason(self.table)))

    def _ask(
        self, group: _Group, values: list[str], fields: Sequence[str]
    ) -> tuple[list[SnUser], int] | ServiceNowError:
        try:
            return self._rows(_encoded(group, values), fields)
        except ServiceNowError as exc:
            return exc

    def _chunks(
        self, keys: Iterable[LookupKey], chunk_size: int
    ) -> Iterator[tuple[_Group, list[str]]]:
        # values asked in the same fields share one query: emailIN a,b ^OR user_nameIN a,b
        fields_of: dict[str, set[tuple[str, str]]] = {}
        for key in keys:
            fields_of.setdefault(key.value, set()).add((key.field, key.op))
        groups: dict[tuple[tuple[str, str], ...], list[str]] = {}
        for value, wanted in fields_of.items():
            groups.setdefault(tuple(sorted(wanted)), []).append(value)
        for group, values in groups.items():
            for chunk in _split(values, chunk_size, self.max_query_chars):
                yield group, chunk


@define
class _Tally:
    """What one fetch counted, for :class:`DirectoryResult`."""

    lookups: int = 0
    lookups_failed: int = 0
    hidden_rows: int = 0
    lookups_short: int = 0
    hidden_values: int = 0

    def result(
        self,
        index: UserIndex,
        failed: dict[LookupKey, str],
        refused: dict[LookupKey, str],
        mode: Literal["keyed", "snapshot"],
        requests: int,
    ) -> DirectoryResult:
        return DirectoryResult(
            index=index,
            failed=failed,
            refused=refused,
            mode=mode,
            requests=requests,
            lookups=self.lookups,
            lookups_failed=self.lookups_failed,
            hidden_rows=self.hidden_rows,
            lookups_short=self.lookups_short,
            hidden_values=self.hidden_values,
        )


def _hidden_reason(table: str) -> str:
    return (
        f"{table} rows holding this value are hidden from this account by read ACLs "
        "(counted by X-Total-Count, not returned): the user is unknown"
    )


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
