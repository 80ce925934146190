"""ServiceNowConnection: a small pool of sessions, lean reads and counted round trips.

A ServiceNow instance runs one transaction per session at a time (session
synchronisation): requests carrying the same session cookie queue behind each
other. So parallel work needs independent sessions, each with its own cookie
jar; the connection keeps a fixed pool of them and lends one per request, which
also bounds the requests it has in flight to the pool's size.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import logging
import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

import attrs
import requests
from urllib3.exceptions import MaxRetryError, ProtocolError, ReadTimeoutError

from cisync_lib._http import THROTTLE_STATUSES, Counter, make_retry
from cisync_lib.errors import ConfigError, ServiceNowRequestError, UnsafeQueryError

from . import _pysnc
from ._auth import BasicAuth, OAuthClientCredentials, OAuthPassword, TokenAuth
from ._batch import BatchItem, BatchResult, send_batches
from ._http import build_session, instance_policy
from ._query import q_and, q_ge, q_gt, q_lt

__all__ = ["MAX_SESSIONS", "QueryRows", "RowList", "ServiceNowConnection"]

logger = logging.getLogger(__name__)

#: a Table API URL path and its table (``/api/now/table/T`` or ``/api/now/v2/table/T``)
_TABLE_PATH = re.compile(r"/api/now/(?:v\d+/)?table/([^/]+)")

Row = dict[str, str]
_T = TypeVar("_T")

#: more sessions than this only queue on the instance's API semaphores (4 per node)
MAX_SESSIONS = 32
#: reads naming at most this many fields are narrow: they page up to ``narrow_page_size`` rows
NARROW_FIELDS = 8
#: rows per page of wide reads unless the caller chooses
DEFAULT_PAGE_SIZE = 1000


class QueryRows(Iterator[Row]):
    """The rows of one :meth:`ServiceNowConnection.query`, and how many the instance held back.

    Attributes:
        total: ``X-Total-Count`` of the first page: every row matching the
            query, including rows a read ACL hides (``None`` before the first page).
        returned: rows returned so far.
        done: the read went to its end.
    """

    def __init__(self) -> None:
        self._rows: Iterator[Row] = iter(())
        self.total: int | None = None
        self.returned = 0
        self.done = False

    def __iter__(self) -> QueryRows:
        return self

    def __next__(self) -> Row:
        return next(self._rows)

    @property
    def hidden(self) -> int:
        """Rows ``X-Total-Count`` promised that the instance did not return (read ACLs).

        Known once the iteration has ended; rows inserted or deleted during the
        read can move it by as many.
        """
        if not self.done or self.total is None:
            return 0
        return max(0, self.total - self.returned)


class RowList(list[Row]):
    """The rows of one :meth:`ServiceNowConnection.query_all`, and how many were held back.

    Attributes:
        hidden: rows ``X-Total-Count`` counted that the instance did not return
            (read ACLs); rows inserted or deleted during the read can move it.
    """

    def __init__(self, rows: Iterable[Row] = (), *, hidden: int = 0) -> None:
        super().__init__(rows)
        self.hidden = max(0, hidden)


class ServiceNowConnection:
    """A connection to one ServiceNow instance.

    Every request goes through one :class:`requests.Session` that ignores the
    environment (``trust_env=False``), verifies TLS as told, has (connect, read)
    timeouts and retries only idempotent requests. pysnc runs on that session.

    Args:
        instance_url: ``https://<name>.service-now.com`` (or any ``https://`` URL).
        auth: :class:`BasicAuth`, :class:`OAuthClientCredentials` or :class:`OAuthPassword`.
        verify: ``True`` for the system trust store, or the path of a CA bundle.
        timeout: (connect, read) seconds for every request.
        proxies: explicit proxies (``{"https": "http://proxy:8080"}``); the
            environment's are never used.
        page_size: rows per page of every read. ``None``: 1,000 for reads of many
            (or all) fields, ``narrow_page_size`` for narrow ones.
        narrow_page_size: rows per page of narrow reads (at most 8 named fields,
            such as links or ``sys_user``) when ``page_size`` is ``None``; 10,000 is
            the Table API's own default limit.
        retries: retries of idempotent requests on 429/502/503/504 and network errors;
            reads (every GET) are also retried this many times when the body broke
            off mid-way, was not valid JSON, or the instance answered 500.
        backoff: backoff factor in seconds between those retries.
        max_retry_after: longest ``Retry-After`` honoured, in seconds.
        sessions: independent sessions (own cookie jar, own instance session)
            the connection may use at once; at most this many requests are in
            flight. 1 sends everything through one session, one request at a time.

    Raises:
        ConfigError: for a URL that is not ``https://``, a bad page size or session count.
    """

    def __init__(
        self,
        instance_url: str,
        *,
        auth: BasicAuth | OAuthClientCredentials | OAuthPassword,
        verify: bool | str = True,
        timeout: tuple[float, float] = (10.0, 60.0),
        proxies: Mapping[str, str] | None = None,
        page_size: int | None = None,
        narrow_page_size: int = 10_000,
        retries: int = 4,
        backoff: float = 0.5,
        max_retry_after: float = 60.0,
        sessions: int = 4,
    ) -> None:
        url = instance_url.strip().rstrip("/")
        if not url.startswith("https://"):
            raise ConfigError(key="instance_url", problem=f"must be an https:// URL, got {url!r}")
        if page_size is not None and page_size < 1:
            raise ConfigError(key="page_size", problem="must be at least 1")
        if narrow_page_size < 1:
            raise ConfigError(key="narrow_page_size", problem="must be at least 1")
        if not 1 <= sessions <= MAX_SESSIONS:
            raise ConfigError(
                key="sessions", problem=f"must be between 1 and {MAX_SESSIONS}, got {sessions}"
            )
        self._url = url
        self._auth = auth
        self._page_size = page_size or DEFAULT_PAGE_SIZE
        self._narrow_page_size = page_size or narrow_page_size
        self._short_page_retries = 2
        self._short_pages = 0
        self._read_retries = retries
        self._read_retried = 0
        self._counter = Counter()
        self._throttled = Counter()
        self._batch_ids = itertools.count(1)
        self._local = threading.local()
        self._page_watchers: tuple[Callable[[str], None], ...] = ()
        self._watch_lock = threading.Lock()
        self._token: TokenAuth | None = None
        self._sessions: list[requests.Session] = []
        self._clients: list[Any] = []
        self._policy = instance_policy(
            url,
            verify=verify,
            timeout=timeout,
            proxies=proxies,
            retries=retries,
            backoff=backoff,
            max_retry_after=max_retry_after,
        )
        for _ in range(sessions):
            session = build_session(self._policy, counter=self._counter, throttled=self._throttled)
            session.hooks["response"].append(self._remember)
            session.hooks["response"].append(_decode_table_reads)
            if isinstance(auth, BasicAuth):
                session.auth = (auth.username, auth.password)
            else:
                # one token for the whole pool, fetched through the first session
                if self._token is None:
                    self._token = TokenAuth(session, url, auth, timeout)
                session.auth = self._token
            self._sessions.append(session)
            self._clients.append(_pysnc.make_client(url, session))
        self._session = self._sessions[0]
        self._client = self._clients[0]
        # LIFO: a caller working alone keeps reusing the same session (and its cookie)
        self._free: queue.LifoQueue[int] = queue.LifoQueue()
        for index in reversed(range(sessions)):
            self._free.put(index)

    # --- properties -------------------------------------------------------------

    @property
    def instance_url(self) -> str:
        """The instance base URL, without a trailing slash."""
        return self._url

    @property
    def session(self) -> requests.Session:
        """The pool's first session, for plain JSON APIs (IRE), with the same trust and timeouts.

        Use it from one thread at a time; :meth:`lease` lends any free session.
        """
        return self._session

    @property
    def sessions(self) -> int:
        """How many sessions the connection uses at most at once (its requests in flight)."""
        return len(self._sessions)

    @contextlib.contextmanager
    def lease(self) -> Iterator[requests.Session]:
        """Lend a free session for one request (waiting for one if all are busy)."""
        with self._leased() as (session, _client):
            yield session

    @contextlib.contextmanager
    def _leased(self) -> Iterator[tuple[requests.Session, Any]]:
        index = self._free.get()
        try:
            yield self._sessions[index], self._clients[index]
        finally:
            self._free.put(index)

    @property
    def request_count(self) -> int:
        """Round trips made through this connection (each retry and token request included)."""
        return self._counter.value

    @property
    def throttled(self) -> int:
        """Answers 429 (rate limit, API semaphore queue full) or 503 (busy) so far.

        Each such request was retried or re-sent after waiting (``Retry-After``
        when given); a count that grows run after run says the instance is
        throttling this integration (see the tuning guide).
        """
        return self._throttled.value

    @property
    def short_pages(self) -> int:
        """Pages that came back short and were read again (ACLs or a busy instance)."""
        return self._short_pages

    @property
    def read_retries(self) -> int:
        """Reads sent again after a body cut short, malformed JSON or a 500 (see ``retries``)."""
        return self._read_retried

    @property
    def read_attempts(self) -> int:
        """How many times one read is tried at most before it fails."""
        return self._read_retries + 1

    @property
    def user_name(self) -> str | None:
        """The integration user's name, when the credentials carry one."""
        if isinstance(self._auth, (BasicAuth, OAuthPassword)):
            return self._auth.username
        return None

    @property
    def page_size(self) -> int:
        """Rows per page of wide reads (narrow reads may use bigger pages)."""
        return self._page_size

    def __repr__(self) -> str:
        return f"ServiceNowConnection({self._url!r}, auth={type(self._auth).__name__})"

    # --- plumbing ---------------------------------------------------------------

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._local.last = (response.status_code, "")
        watchers = self._page_watchers
        if watchers and response.request.method == "GET":
            table = _TABLE_PATH.search(response.url.split("?")[0])
            if table is not None:
                for watcher in watchers:
                    watcher(table.group(1))
        if response.status_code in THROTTLE_STATUSES:
            self._throttled.add()
        token_call = response.url.split("?")[0].endswith("/oauth_token.do")
        if response.status_code == 401 and self._token is not None and not token_call:
            self._token.invalidate()  # a revoked token: the next request fetches a new one

    @contextlib.contextmanager
    def watch_pages(self, on_page: Callable[[str], None]) -> Iterator[None]:
        """Call ``on_page(table)`` for every Table API page answered while the block runs.

        For progress display: pages are read inside :meth:`query` and
        :meth:`query_all` (in parallel, retries included), so a caller cannot
        count them itself. ``on_page`` is called from the threads that read,
        and must be quick and thread-safe.
        """
        with self._watch_lock:
            self._page_watchers = (*self._page_watchers, on_page)
        try:
            yield
        finally:
            with self._watch_lock:
                kept = list(self._page_watchers)
                kept.remove(on_page)
                self._page_watchers = tuple(kept)

    def _leased_session(self) -> contextlib.AbstractContextManager[requests.Session]:
        return self.lease()

    def _last(self) -> tuple[int | None, str]:
        last: tuple[int | None, str] = getattr(self._local, "last", (None, ""))
        return last

    def close(self) -> None:
        """Close every session's connections."""
        for session in self._sessions:
            session.close()

    def __enter__(self) -> ServiceNowConnection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- reads ------------------------------------------------------------------

    def query(
        self,
        table: str,
        *,
        query: str = "",
        fields: Sequence[str] = (),
        page_size: int | None = None,
    ) -> QueryRows:
        """Iterate the rows of ``table`` matching ``query``, ordered by sys_id.

        Pages by key (``sys_id>last``) rather than by offset, so rows inserted or
        deleted during the read neither repeat nor vanish, and a page shortened
        by ACLs or the instance does not end the read early: the read ends only
        when ``X-Total-Count`` says nothing is left. Build ``query`` with the
        ``q_*`` helpers.

        Rows the instance counts in ``X-Total-Count`` but never returns (a read
        ACL hides them) are counted in the result's :attr:`QueryRows.hidden`
        once the iteration ends. When the last rows of the read are hidden, so
        that a page comes back empty although rows remain, the read raises an
        error whose ``hidden_rows`` says how many rows were held back in all.

        Args:
            table: the table.
            query: an encoded query without ``ORDERBY`` or ``^NQ``.
            fields: the fields to return (``sys_id`` is always included).
            page_size: rows per request (default: the connection's, see its arguments).

        Returns:
            an iterator of ``{field: raw string value}`` dicts, one per row.

        Raises:
            UnsafeQueryError: if ``query`` orders or has a top-level OR (``^NQ``).
            ServiceNowRequestError: if a page fails after retries (while iterating).
            ServiceNowAuthError: for 401/403 (while iterating).
        """
        if "ORDERBY" in query or "^NQ" in query:
            raise UnsafeQueryError(
                field="", value=query, problem="ORDERBY and ^NQ would break sys_id paging"
            )
        wanted = list(dict.fromkeys(["sys_id", *fields])) if fields else []
        narrow = bool(wanted) and len(wanted) <= NARROW_FIELDS
        limit = page_size or (self._narrow_page_size if narrow else self._page_size)
        result = QueryRows()
        result._rows = self._pages(table, query, wanted, limit, result)
        return result

    def _pages(
        self,
        table: str,
        query: str,
        wanted: list[str],
        limit: int,
        result: QueryRows,
    ) -> Iterator[Row]:
        last_id: str | None = None
        while True:
            page_query = q_and(query, q_gt("sys_id", last_id) if last_id else "")
            rows, total = self._page(table, page_query, wanted, limit)
            if result.total is None:
                result.total = total
            result.returned += len(rows)
            yield from rows
            if total <= len(rows):
                result.done = True
                return
            if not rows:
                held_back = (result.total or 0) - result.returned
                raise ServiceNowRequestError(
                    operation="query",
                    table=table,
                    detail=f"empty page although {total} row(s) remain; check read ACLs "
                    f"({held_back} matching row(s) not returned)",
                    hidden_rows=held_back,
                )
            last_id = rows[-1]["sys_id"]

    def query_all(self, table: str, *, query: str = "", fields: Sequence[str] = ()) -> RowList:
        """Every row :meth:`query` gives, in the same order, read in parallel when big.

        The first page is read as usual; if ``X-Total-Count`` shows more pages to
        come, the rest of the sys_id key space is split into ranges (at most one
        per session and per remaining page) read at the same time, each paged by
        key. The ranges cover every possible sys_id, so nothing is missed
        whatever the ids look like; only the balance assumes random hex ids.

        Returns:
            the rows, with ``hidden``: rows ``X-Total-Count`` counted that the
            instance did not return (read ACLs), as :attr:`QueryRows.hidden`.

        Raises:
            The errors of :meth:`query`.
        """
        wanted = list(dict.fromkeys(["sys_id", *fields])) if fields else []
        if "ORDERBY" in query or "^NQ" in query:
            return RowList(self.query(table, query=query, fields=fields))  # UnsafeQueryError
        narrow = bool(wanted) and len(wanted) <= NARROW_FIELDS
        limit = self._narrow_page_size if narrow else self._page_size
        rows, total = self._page(table, query, wanted, limit)
        if total <= len(rows):
            return RowList(rows)
        if not rows:
            raise ServiceNowRequestError(
                operation="query",
                table=table,
                detail=f"empty page although {total} row(s) remain; check read ACLs",
                hidden_rows=total,
            )
        last = rows[-1]["sys_id"]
        pages = -(-(total - len(rows)) // limit)
        ranges = _key_ranges(last, min(pages, len(self._sessions)))
        if len(ranges) <= 1:
            rest = q_and(query, q_gt("sys_id", last))
            more = list(self.query(table, query=rest, fields=fields, page_size=limit))
            return RowList(rows + more, hidden=total - len(rows) - len(more))

        def read(part: str) -> list[Row]:
            return list(self.query(table, query=q_and(query, part), fields=fields, page_size=limit))

        with ThreadPoolExecutor(len(ranges), thread_name_prefix="cisync-read") as pool:
            parts = list(pool.map(read, ranges))
        everything = rows + [row for part in parts for row in part]
        return RowList(everything, hidden=total - len(everything))

    def _page(self, table: str, query: str, fields: list[str], limit: int) -> tuple[list[Row], int]:
        """One page; a short page (fewer rows than asked while more remain) is read again.

        The instance applies the limit before ACLs (and a busy one may cut a
        page short), so a short page may hide rows in the middle of the window.
        Re-reading it and merging by sys_id recovers rows that were only
        transiently missing; rows an ACL hides stay hidden, as they must.
        """
        rows, total = self._read_page(table, query, fields, limit)
        for _ in range(self._short_page_retries):
            if len(rows) >= limit or total <= len(rows):
                break
            self._short_pages += 1
            again, total = self._read_page(table, query, fields, limit)
            merged = {r["sys_id"]: r for r in rows}
            merged.update((r["sys_id"], r) for r in again)
            rows = [merged[k] for k in sorted(merged)]
        return rows, total

    def count(self, table: str, *, query: str = "") -> int:
        """How many rows match ``query`` (one request, from ``X-Total-Count``)."""
        _rows, total = self._read_page(table, query, ["sys_id"], 1)
        return total

    def get(self, table: str, sys_id: str, *, fields: Sequence[str] = ()) -> Row | None:
        """One record by sys_id, or None if it does not exist (or is not readable)."""
        wanted = list(dict.fromkeys(["sys_id", *fields])) if fields else []
        return self._read(
            lambda: self._with_client(
                lambda client: _pysnc.get_record(client, table, sys_id, wanted, self._last)
            )
        )

    def _read_page(
        self, table: str, query: str, fields: list[str], limit: int
    ) -> tuple[list[Row], int]:
        return self._read(
            lambda: self._with_client(
                lambda client: _pysnc.read_page(client, table, query, fields, limit, self._last)
            )
        )

    def _with_client(self, call: Callable[[Any], _T]) -> _T:
        """Run ``call`` with the pysnc client of a leased session (one request, one try)."""
        with self._leased() as (_session, client):
            return call(client)

    def _read(self, attempt: Callable[[], _T]) -> _T:
        """One idempotent read, tried again when its answer arrived broken.

        urllib3's retry (below requests) never sees a body that breaks off after
        the headers, nor a body that is not JSON, and 500 is not in its list (a
        write answering 500 must be inspected, not repeated). A GET changes
        nothing, so each of these is tried again, up to ``retries`` times with
        the same jittered exponential backoff; then the last error is raised,
        saying how many tries were made.
        """
        retry = make_retry(self._policy)  # the adapter's policy, for what it never sees
        tries = 0
        while True:
            tries += 1
            try:
                return attempt()
            except ServiceNowRequestError as exc:
                why = _broken_read(exc)
                if why is None:
                    raise
                try:
                    retry = retry.increment("GET", self._url, error=ProtocolError(why))
                except MaxRetryError:
                    detail = f"{exc.detail} (after {tries} tries)" if tries > 1 else exc.detail
                    raise attrs.evolve(exc, detail=detail, message="") from exc.__cause__
                self._read_retried += 1
                delay = retry.get_backoff_time()
                logger.info(
                    "%s on %s: %s; trying again in %.1f s (try %d of %d)",
                    exc.operation or "read",
                    exc.table,
                    why,
                    delay,
                    tries + 1,
                    self._read_retries + 1,
                )
                retry.pause(delay)

    # --- single writes ----------------------------------------------------------

    def insert(self, table: str, values: Mapping[str, str]) -> str:
        """Insert a record and return its sys_id.

        Pass ``sys_id`` in ``values`` to choose it: a repeated insert then fails
        instead of creating a duplicate.

        Raises:
            ServiceNowRequestError: with ``outcome_unknown=True`` when the
                request was sent but no answer came back (re-read, never retry blindly).
        """
        return self.insert_row(table, values)["sys_id"]

    def insert_row(self, table: str, values: Mapping[str, str]) -> Row:
        """Like :meth:`insert`, returning the created row as the instance answered it."""
        with self._leased() as (_session, client):
            return _pysnc.insert_record(client, table, values, self._last)

    def update(self, table: str, sys_id: str, values: Mapping[str, str]) -> None:
        """PATCH the given fields of a record (only those fields are sent)."""
        with self._leased() as (_session, client):
            _pysnc.update_record(client, table, sys_id, values, self._last)

    def delete(self, table: str, sys_id: str) -> None:
        """Delete a record."""
        with self._leased() as (_session, client):
            _pysnc.delete_record(client, table, sys_id, self._last)

    # --- batch writes -----------------------------------------------------------

    def batch(
        self,
        items: Sequence[BatchItem],
        *,
        chunk_size: int = 100,
        retry_unserviced: int = 3,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[BatchResult]:
        """Send Table API writes through the Batch API, ``chunk_size`` per call.

        Items the instance leaves unserviced did not run and are re-sent (up to
        ``retry_unserviced`` more rounds). Nothing else is retried: an item whose
        batch call failed after sending comes back as ``UNKNOWN``, and one the
        instance refuses to batch as ``REFUSED``, for the caller to settle.

        Returns:
            one :class:`BatchResult` per item, in order.
        """
        return send_batches(
            self._leased_session,
            self._url,
            items,
            policy=self._policy,
            chunk_size=chunk_size,
            next_id=lambda: next(self._batch_ids),
            retry_unserviced=retry_unserviced,
            progress=progress,
        )


def _broken_read(exc: ServiceNowRequestError) -> str | None:
    """Why a failed read is worth sending again, or None when it is not."""
    cause = exc.__cause__
    if isinstance(cause, requests.exceptions.RetryError):
        return None  # urllib3 already spent the retries on 429/502/503/504
    if isinstance(cause, requests.exceptions.ChunkedEncodingError):
        return "the body broke off mid-way"
    if isinstance(cause, requests.ConnectionError):
        inner = cause.args[0] if cause.args else None
        if isinstance(inner, (ProtocolError, ReadTimeoutError, http.client.IncompleteRead)):
            return "the body broke off mid-way"
        return None
    if isinstance(cause, (ValueError, KeyError, TypeError)):
        return "the answer was not the JSON expected"  # JSONDecodeError is a ValueError
    if exc.status == 500:
        return "the instance answered HTTP 500"
    return None


def _key_ranges(after: str, parts: int) -> list[str]:
    """Encoded-query parts splitting the sys_ids above ``after`` into ``parts`` ranges.

    Cut points are two-hex-digit prefixes spread evenly between ``after``'s
    prefix and ``ff``; the first range starts just above ``after`` and the last
    is open-ended, so together they cover every sys_id greater than ``after``.
    """
    try:
        low = int(after[:2], 16) if len(after) >= 2 else 0
    except ValueError:
        low = 256  # not a hex id: no cut points, one range
    span = 256 - (low + 1)
    cuts = sorted({low + 1 + span * i // parts for i in range(1, parts)} - {low + 1})
    cuts = [c for c in cuts if low < c < 256]
    if not cuts:
        return [q_gt("sys_id", after)]
    points = [f"{c:02x}" for c in cuts]
    ranges = [q_and(q_gt("sys_id", after), q_lt("sys_id", points[0]))]
    for lo, hi in itertools.pairwise(points):
        ranges.append(q_and(q_ge("sys_id", lo), q_lt("sys_id", hi)))
    ranges.append(q_ge("sys_id", points[-1]))
    return ranges


def _decode_table_reads(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Decode a Table API read's JSON once, here, so a malformed body is ours to handle.

    pysnc prints a traceback to stderr when a page is not JSON, before raising;
    decoding in this response hook raises ``requests``' ``JSONDecodeError`` first
    (a read the connection then tries again), and pysnc gets the decoded body
    from the cache instead of parsing it a second time.
    """
    path = response.url.split("?", 1)[0]
    table_api = "/api/now/table/" in path or re.search(r"/api/now/v\d+/table/", path)
    if response.request.method != "GET" or response.status_code != 200 or not table_api:
        return
    decoded = response.json()  # raises requests.exceptions.JSONDecodeError (a ValueError)

    def cached(**_kwargs: Any) -> Any:
        return decoded

    response.json = cached  # type: ignore[method-assign]
