"""The request log every sandbox service writes to, so tests and benchmarks can count calls."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import attrs
from attrs import frozen

__all__ = ["INFO_KEY", "RequestInfo", "RequestLog", "RequestRecord"]

#: environ key of the :class:`RequestInfo` a service fills in while serving a request.
INFO_KEY = "cisync.request_info"


@attrs.define
class RequestInfo:
    """What a service reports about the request it is serving (mutable, one per request).

    Attributes:
        writes: records created, updated or deleted (each Batch API sub-request
            and each IRE item counts on its own).
        items: sub-items of the request (Batch API sub-requests, IRE items).
        fault: the fault kind applied, if any.
        user: the authenticated user name, if any.
    """

    writes: int = 0
    items: int = 0
    fault: str | None = None
    user: str | None = None


@frozen(kw_only=True)
class RequestRecord:
    """One HTTP request a sandbox service answered.

    Attributes:
        service: ``servicenow``, ``entra``, ``graph`` or ``mdca``.
        method: the HTTP method.
        path: the URL path.
        query: the raw query string.
        status: the HTTP status sent.
        duration_ms: time spent producing the response (injected latency included).
        request_bytes: size of the request body.
        response_bytes: size of the response body as produced (before any cut).
        fault: the injected fault kind, if any.
        items: sub-items (Batch API sub-requests, IRE items); 0 for plain calls.
        writes: records created, updated or deleted by this request.
        user: the authenticated user name, if any.
        at: when the request arrived, in seconds since the epoch (``time.time()``),
            before any injected latency; with ``duration_ms`` it places every
            request on one time line, so rates and overlaps can be checked from the log.
    """

    service: str
    method: str
    path: str
    query: str
    status: int
    duration_ms: float
    request_bytes: int
    response_bytes: int
    fault: str | None = None
    items: int = 0
    writes: int = 0
    user: str | None = None
    at: float = 0.0


class RequestLog:
    """A thread-safe, append-only list of :class:`RequestRecord` with counters.

    ``mark()`` returns a position; ``since(mark)`` and the ``since=`` argument of
    the counters look only at the requests made after it, even across ``clear()``.

    Args:
        max_entries: keep at most this many records, forgetting the oldest (so a
            long-running ``cisync sandbox serve`` does not grow without bound).
    """

    def __init__(self, max_entries: int = 1_000_000) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._base = 0
        self._max = max(1, max_entries)

    def append(self, record: RequestRecord) -> None:
        """Add a record (called by the sandbox middleware)."""
        with self._lock:
            self._records.append(record)
            if len(self._records) > self._max:
                dropped = len(self._records) - self._max
                del self._records[:dropped]
                self._base += dropped

    @property
    def entries(self) -> tuple[RequestRecord, ...]:
        """Every record since the last ``clear()``, oldest first."""
        with self._lock:
            return tuple(self._records)

    def mark(self) -> int:
        """Return the current position, for :meth:`since`."""
        with self._lock:
            return self._base + len(self._records)

    def since(self, mark: int) -> tuple[RequestRecord, ...]:
        """Return the records added after ``mark`` was taken."""
        with self._lock:
            return tuple(self._records[max(0, mark - self._base) :])

    def clear(self) -> None:
        """Forget every record (marks taken before stay valid)."""
        with self._lock:
            self._base += len(self._records)
            self._records = []

    def _select(
        self, since: int | None, keep: Callable[[RequestRecord], bool]
    ) -> Iterable[RequestRecord]:
        records = self.entries if since is None else self.since(since)
        return (r for r in records if keep(r))

    def round_trips(
        self,
        service: str | None = None,
        method: str | None = None,
        path_prefix: str | None = None,
        *,
        since: int | None = None,
    ) -> int:
        """Count HTTP requests, optionally by service, method and path prefix.

        A Batch API call is one round trip however many sub-requests it carries.
        """
        want_method = method.upper() if method else None

        def keep(r: RequestRecord) -> bool:
            return (
                (service is None or r.service == service)
                and (want_method is None or r.method == want_method)
                and (path_prefix is None or r.path.startswith(path_prefix))
            )

        return sum(1 for _ in self._select(since, keep))

    def writes(self, service: str | None = None, *, since: int | None = None) -> int:
        """Count records written; batch sub-requests and IRE items count one each."""
        return sum(
            r.writes for r in self._select(since, lambda r: service is None or r.service == service)
        )
