"""Session synchronisation and an API transaction pool, as a ServiceNow instance enforces them.

A real instance runs one transaction per user session at a time (requests
carrying the same session cookie queue behind each other; more than
``max_waiters`` queued ones are dropped with HTTP 202 "Session Reuse Queue
Overflow"), and every node runs at most a few API transactions at once (the
``API_INT`` semaphore: 4 threads and 50 queued, then HTTP 429). A sandbox that
served every request at once would reward clients that a real instance
punishes, so the middleware passes every request of the service through a
:class:`TransactionGate` first.

Requests without a known session cookie start a new session (as Basic auth
without a cookie does) and get its cookie back in ``Set-Cookie``.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import CookieError, SimpleCookie
from typing import Any

import attrs
from attrs import frozen

__all__ = ["GateStats", "GateTicket", "TransactionGate"]

COOKIE = "JSESSIONID"


@frozen(kw_only=True)
class GateStats:
    """What the gate saw since it was made or last reset.

    Attributes:
        sessions: sessions created (requests that came without a known cookie).
        max_requests: most requests present at once (running or waiting): the
            client's requests in flight as the instance sees them.
        max_requests_per_session: most requests of one session present at once.
        max_running: most transactions running at once (at most the pool's size).
        max_queued: most requests waiting for a pool thread at once.
        session_waits: requests that had to wait for their session's previous one.
        refused_pool: requests refused with 429 because the pool's queue was full.
        refused_session: requests dropped with 202 because their session had too many waiters.
    """

    sessions: int = 0
    max_requests: int = 0
    max_requests_per_session: int = 0
    max_running: int = 0
    max_queued: int = 0
    session_waits: int = 0
    refused_pool: int = 0
    refused_session: int = 0


_STAT_NAMES = tuple(f.name for f in attrs.fields(GateStats))


@frozen(kw_only=True)
class GateTicket:
    """The gate's answer for one request.

    Attributes:
        headers: headers to add to the response (``Set-Cookie`` for a new session).
        refused: ``(status, message)`` when the request must not be served.
        session: the session id the request ran in.
    """

    headers: tuple[tuple[str, str], ...] = ()
    refused: tuple[int, str] | None = None
    session: str = ""


@attrs.define
class _Session:
    lock: threading.Lock = attrs.field(factory=threading.Lock)
    present: int = 0
    waiters: int = 0


#: the session cookie as the gate sets it (a bare hex token): found without a full parse
_PLAIN_COOKIE = re.compile(rf"(?:^|;)\s*{COOKIE}=([0-9a-f]+)\s*(?:;|$)")


def _cookie(environ: dict[str, Any]) -> str | None:
    raw = str(environ.get("HTTP_COOKIE", ""))
    if not raw:
        return None
    plain = _PLAIN_COOKIE.search(raw)
    if plain is not None:  # every request of a known session: skip the parser (hot path)
        return plain.group(1)
    try:
        jar: SimpleCookie = SimpleCookie(raw)
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else None


class TransactionGate:
    """Serialises requests per session cookie and bounds the transactions running at once.

    Args:
        threads: transactions served at once (the ``API_INT`` semaphore); ``None``: no limit.
        queue: requests that may wait for a thread; one more is refused with 429.
        session_sync: run the requests of one session one at a time.
        max_waiters: requests that may wait for their session; one more gets 202.
    """

    def __init__(
        self,
        *,
        threads: int | None = 4,
        queue: int = 50,
        session_sync: bool = True,
        max_waiters: int = 10,
    ) -> None:
        self.threads = threads
        self.queue = queue
        self.session_sync = session_sync
        self.max_waiters = max_waiters
        self._lock = threading.Lock()
        self._pool = threading.Condition(self._lock)
        self._sessions: dict[str, _Session] = {}
        self._running = 0
        self._queued = 0
        self._present = 0
        # plain counters on the hot path; a frozen GateStats is built only when asked for
        self._stats: dict[str, int] = dict.fromkeys(_STAT_NAMES, 0)

    @property
    def stats(self) -> GateStats:
        """What the gate saw since it was made or last reset."""
        with self._lock:
            return GateStats(**self._stats)

    def reset_stats(self) -> None:
        """Start counting again (sessions stay known)."""
        with self._lock:
            self._stats = dict.fromkeys(_STAT_NAMES, 0)

    def _note(self, **changes: int) -> None:
        """Raise maxima and add to counters (call with the lock held)."""
        stats = self._stats
        for name, value in changes.items():
            if name.startswith("max_"):
                stats[name] = max(stats[name], value)
            else:
                stats[name] += value

    def _session(self, environ: dict[str, Any]) -> tuple[str, _Session, bool]:
        sid = _cookie(environ)
        with self._lock:
            found = self._sessions.get(sid) if sid else None
            if found is not None and sid is not None:
                return sid, found, False
            sid = secrets.token_hex(16)
            created = self._sessions[sid] = _Session()
            self._note(sessions=1)
            return sid, created, True

    @contextmanager
    def admit(self, environ: dict[str, Any]) -> Iterator[GateTicket]:
        """Hold the request's session and a pool thread while the body of the block runs."""
        sid, session, new = self._session(environ)
        headers: tuple[tuple[str, str], ...] = ()
        if new:
            headers = (("Set-Cookie", f"{COOKIE}={sid}; Path=/; Secure; HttpOnly"),)
        with self._lock:
            session.present += 1
            self._present += 1
            self._note(max_requests=self._present, max_requests_per_session=session.present)
        try:
            if not self._enter_session(session):
                yield GateTicket(headers=headers, refused=(202, "Session Reuse Queue Overflow"),
                                 session=sid)  # fmt: skip
                return
            try:
                if not self._enter_pool():
                    yield GateTicket(headers=headers, refused=(429, "Too Many Requests"),
                                     session=sid)  # fmt: skip
                    return
                try:
                    yield GateTicket(headers=headers, session=sid)
                finally:
                    with self._pool:
                        self._running -= 1
                        self._pool.notify()
            finally:
                if self.session_sync:
                    session.lock.release()
        finally:
            with self._lock:
                session.present -= 1
                self._present -= 1

    def _enter_session(self, session: _Session) -> bool:
        if not self.session_sync:
            return True
        if session.lock.acquire(blocking=False):
            return True
        with self._lock:
            if session.waiters >= self.max_waiters:
                self._note(refused_session=1)
                return False
            session.waiters += 1
            self._note(session_waits=1)
        session.lock.acquire()
        with self._lock:
            session.waiters -= 1
        return True

    def _enter_pool(self) -> bool:
        with self._pool:
            if self.threads is not None and self._running >= self.threads:
                if self._queued >= self.queue:
                    self._note(refused_pool=1)
                    return False
                self._queued += 1
                self._note(max_queued=self._queued)
                while self._running >= self.threads:
                    self._pool.wait()
                self._queued -= 1
            self._running += 1
            self._note(max_running=self._running)
            return True
