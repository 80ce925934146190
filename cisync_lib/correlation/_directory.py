"""Where candidates come from: the fetch request and result, the index, an in-memory directory."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Literal

from attrs import field, frozen

from cisync_lib._records import SnUser

from ._outcome import LookupKey, record_value, split_tokens
from ._text import fold, loose_fold

__all__ = [
    "DirectoryResult",
    "FetchRequest",
    "InMemoryUserDirectory",
    "UserIndex",
]


class UserIndex:
    """A multi-valued index ``(field, op) -> folded value -> [SnUser]`` built lazily.

    Duplicates stay visible (a list per value). With ``loose=True`` values are
    keyed by ``loose_fold``, the way ServiceNow compares, so lookups return
    a superset that strategies must re-check.

    Args:
        users: the records.
        loose: key by the case- and accent-insensitive fold.
    """

    def __init__(self, users: Iterable[SnUser], *, loose: bool = False) -> None:
        self._users = tuple(users)
        self._loose = loose
        self._maps: dict[tuple[str, str], dict[str, list[SnUser]]] = {}

    @property
    def users(self) -> tuple[SnUser, ...]:
        """Every record in the index."""
        return self._users

    def _key(self, value: str) -> str:
        return loose_fold(value) if self._loose else fold(value)

    def _map(self, field_name: str, op: str) -> dict[str, list[SnUser]]:
        found = self._maps.get((field_name, op))
        if found is None:
            found = {}
            for user in self._users:
                raw = record_value(user, field_name)
                if not raw:
                    continue
                values = _token_keys(raw) if op == "token" else (raw,)
                for value in dict.fromkeys(self._key(v) for v in values):
                    found.setdefault(value, []).append(user)
            self._maps[(field_name, op)] = found
        return found

    def candidates(self, key: LookupKey) -> Sequence[SnUser]:
        """Records whose field may equal ``key.value`` (a superset when ``loose``)."""
        return self._map(key.field, key.op).get(self._key(key.value), ())


def _token_keys(raw: str) -> list[str]:
    # index each token with and without an address-type prefix (``smtp:a@b``): a superset
    out: list[str] = []
    for token in split_tokens(raw):
        out.append(token)
        prefix, sep, rest = token.partition(":")
        if sep and rest and prefix.isalnum():
            out.append(rest)
    return out


@frozen(kw_only=True)
class FetchRequest:
    """What the correlator needs from a directory in one run.

    Attributes:
        keys: the distinct lookup keys of every applicable strategy for every name.
        fields: the ``sys_user`` fields to read (typed ones plus custom ones).
        keyed_threshold: above this many distinct values, read a snapshot.
        chunk_size: values per keyed ``IN`` query.
    """

    keys: Collection[LookupKey]
    fields: tuple[str, ...] = SnUser.FIELDS
    keyed_threshold: int = 1000
    chunk_size: int = 100


@frozen(kw_only=True)
class DirectoryResult:
    """The candidates for one run and what could not be looked up.

    Attributes:
        index: the candidates, to be re-checked by strategies.
        failed: keys whose lookup failed -> the error (their names become
            ``LOOKUP_ERROR``, never ``NO_CANDIDATE``).
        refused: keys that were not looked up because the value is unsafe in
            an encoded query -> the reason.
        mode: ``memory``, ``keyed``, ``snapshot`` or ``none``.
        requests: HTTP round trips made.
        lookups: ``sys_user`` reads made (keyed chunks, or 1 for a snapshot).
        lookups_failed: those that failed after the connection's retries; their
            keys are in ``failed``.
        hidden_rows: rows the instance counted (``X-Total-Count``) but did not
            return, as a read ACL does, for the values found to have them (a lookup
            that comes back short is halved until each such value is alone).
        lookups_short: lookups that came back without some of their rows.
        hidden_values: looked-up values some of whose rows are hidden; their keys
            are in ``failed`` (unknown, never absent), even when a visible row
            holds the value too (the hidden one could be the right account).
    """

    index: UserIndex
    failed: Mapping[LookupKey, str] = field(factory=dict)
    refused: Mapping[LookupKey, str] = field(factory=dict)
    mode: Literal["memory", "keyed", "snapshot", "none"] = "memory"
    requests: int = 0
    lookups: int = 0
    lookups_failed: int = 0
    hidden_rows: int = 0
    lookups_short: int = 0
    hidden_values: int = 0


class InMemoryUserDirectory:
    """A directory over records held in memory, for tests and notebooks.

    Args:
        users: the ``sys_user`` records.
        server_like: return candidates the way ServiceNow does (case- and
            accent-insensitive, a superset), so client re-verification is
            exercised. Off, lookups use the client's own fold.
    """

    def __init__(self, users: Iterable[SnUser], *, server_like: bool = False) -> None:
        self._index = UserIndex(users, loose=server_like)

    @property
    def users(self) -> tuple[SnUser, ...]:
        """The records."""
        return self._index.users

    def fetch(self, request: FetchRequest) -> DirectoryResult:
        """Return the whole in-memory index; nothing can fail."""
        return DirectoryResult(index=self._index, mode="memory")
