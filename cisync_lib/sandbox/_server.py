"""A small threaded HTTPS WSGI server with HTTP/1.1 keep-alive, one per sandbox service.

werkzeug's development server closes every connection after one response (and
drains the socket for 10 ms after each), so a client pays a TLS handshake per
request. This server reads each request body completely before calling the
application, which is what makes keep-alive safe, and does the TLS handshake
in the connection's own thread so a slow client never blocks ``accept``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import socketserver
import ssl
import sys
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from cisync_lib import SandboxError

__all__ = ["DropConnection", "HttpsServer", "SOCKET_KEY", "WsgiApp"]

logger = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: environ key holding the TLS socket (the fault middleware drops connections with it).
SOCKET_KEY = "cisync.socket"
MAX_BODY = 64 * 1024 * 1024
IDLE_TIMEOUT = 120.0


class DropConnection(Exception):
    """Raised by an application's body iterator to cut the connection mid-response."""


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: WsgiApp, context: ssl.SSLContext) -> None:
        self.app = app
        self.ssl_context = context
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, sock: socket.socket, *, alive: bool) -> None:
        with self.connections_lock:
            if alive:
                self.connections.add(sock)
            else:
                self.connections.discard(sock)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # failed handshakes and clients going away are normal in tests
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)

    def close_connections(self) -> None:
        with self.connections_lock:
            open_now = list(self.connections)
        for sock in open_now:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = 1 << 16
    timeout = IDLE_TIMEOUT
    server: _Server

    def setup(self) -> None:
        self.request = self.server.ssl_context.wrap_socket(self.request, server_side=True)
        self.server.track(self.request, alive=True)
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.request, alive=False)
            self.request.close()

    def version_string(self) -> str:
        return "cisync-sandbox"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400, "Bad Content-Length")
            return None
        if length > MAX_BODY:
            self.send_error(413)
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes | None:
        parts: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():  # trailers
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                self.send_error(413)
                return None
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _environ(self, body: bytes) -> dict[str, Any]:
        target = urlsplit(self.path) if "://" in self.path else None
        path, _, query = (target.path, "", target.query) if target else self.path.partition("?")
        host, port = self.server.server_address[:2]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            SOCKET_KEY: self.connection,
        }
        for key, value in self.headers.items():
            name = key.upper().replace("-", "_")
            if name in ("CONTENT_TYPE", "CONTENT_LENGTH") or "_" in key:
                continue  # underscores in header names are a spoofing vector (as werkzeug does)
            name = "HTTP_" + name
            environ[name] = f"{environ[name]},{value}" if name in environ else value
        return environ

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            self.close_connection = True
            return
        environ = self._environ(body)
        state: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            state["status"], state["headers"] = status, headers
            return lambda data: None  # the legacy write() callable; our apps never use it

        try:
            result = self.server.app(environ, start_response)
        except Exception:
            logger.exception("sandbox application failed on %s %s", self.command, self.path)
            self.send_error(500)
            self.close_connection = True
            return
        try:
            self._send(state, result)
        except DropConnection:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        except (ConnectionError, ssl.SSLError, TimeoutError):
            self.close_connection = True  # the client went away (e.g. after its own timeout)
        except Exception:
            logger.exception("sandbox application failed on %s %s", self.command, self.path)
            self.close_connection = True
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    def _send(self, state: dict[str, Any], result: Iterable[bytes]) -> None:
        started = False
        chunked = False
        for chunk in result:
            if not started:
                chunked = self._start(state)
                started = True
            self._write(chunk, chunked)
        if not started:
            chunked = self._start(state)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _start(self, state: dict[str, Any]) -> bool:
        code_text, _, reason = str(state["status"]).partition(" ")
        code = int(code_text)
        self.send_response(code, reason or None)
        names = set()
        for name, value in state["headers"]:
            self.send_header(name, value)
            names.add(name.lower())
        chunked = (
            "content-length" not in names
            and self.command != "HEAD"
            and code >= 200
            and code not in (204, 304)
        )
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        return chunked

    def _write(self, chunk: bytes, chunked: bool) -> None:
        if not chunk:
            return
        if chunked:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        else:
            self.wfile.write(chunk)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


class HttpsServer:
    """Serve one WSGI application over HTTPS on 127.0.0.1 in a background thread.

    Args:
        app: the WSGI application.
        context: the server TLS context.
        port: the port to listen on; 0 picks a free ephemeral port.
        name: a name for the serving thread and for error messages.
    """

    def __init__(
        self, app: WsgiApp, context: ssl.SSLContext, *, port: int = 0, name: str = ""
    ) -> None:
        self.name = name or "service"
        try:
            self._server = _Server(("127.0.0.1", port), app, context)
        except OSError as exc:
            raise SandboxError(
                message=f"sandbox service {self.name!r} cannot listen on 127.0.0.1:{port}: {exc}"
            ) from exc
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"cisync-sandbox-{self.name}",
            daemon=True,
        )

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``https://127.0.0.1:PORT``."""
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start serving in a daemon thread."""
        self._thread.start()

    def close(self) -> None:
        """Stop accepting, cut open keep-alive connections and release the port."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.close_connections()
        self._server.server_close()
