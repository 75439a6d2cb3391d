"""Loopback way in: a threaded HTTP/1.1 server around the emulator, as the official SDK needs."""

from __future__ import annotations

import contextlib
import io
import ipaddress
import logging
import math
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from .core import Emulator
from .endpoints import METHODS, not_allowed, route
from .expiry import Sweeper
from .form import MAX_BODY_BYTES
from .reply import ApiError, Reply, failure

log = logging.getLogger(__name__)
IDLE_SECONDS = 120.0  # a keep-alive connection idle this long is closed
REQUEST_SECONDS = 10.0  # default: a request must be read in full this soon after its first byte


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _DeadlineReader(io.RawIOBase):
    """A connection's reads, bounded per request: once a request's first byte has come, the
    rest (request line, headers, body) must come within `limit` seconds. A per-read timeout
    alone lets a client that sends a byte now and then hold a thread forever (slowloris)."""

    def __init__(self, sock: socket.socket, idle: float, limit: float) -> None:
        super().__init__()
        self._sock, self._idle, self._limit = sock, idle, limit
        self._deadline: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._deadline is None:
            timeout = self._idle  # waiting for the next request on a kept-alive connection
        else:
            timeout = self._deadline - time.monotonic()
            if timeout <= 0:
                raise TimeoutError("the request was not read within its deadline")
        self._sock.settimeout(timeout)
        count = self._sock.recv_into(buffer)
        if self._deadline is None and count:
            self._deadline = time.monotonic() + self._limit
        return count

    def request_read(self) -> None:
        """The request is in: answering it is not bounded by its deadline."""
        self._deadline = None
        self._sock.settimeout(self._idle)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024  # bursts of concurrent clients (the default 5 resets them)

    def __init__(self, address: tuple[str, int], emulator: Emulator,
                 request_timeout: float, listening: socket.socket | None = None) -> None:
        self.emulator = emulator
        self.request_timeout = request_timeout
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()
        super().__init__(address, _Handler, bind_and_activate=listening is None)
        if listening is not None:  # bound and listening already: serve it as it is
            self.socket.close()
            self.socket = listening
            self.server_address = listening.getsockname()[:2]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A dropped connection is the client's business; no traceback on the terminal."""
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    def drop_connections(self) -> None:
        """End every open connection, so idle keep-alive threads stop at once."""
        with self.lock:
            connections, self.connections = list(self.connections), set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _V6Server(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    timeout = IDLE_SECONDS
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # reads go through the deadline reader instead
        self._reader = _DeadlineReader(self.connection, IDLE_SECONDS, self.server.request_timeout)
        self.rfile = io.BufferedReader(self._reader)
        with self.server.lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: request lines may carry the API key (SyncContext puts it in the query)."""

    def parse_request(self) -> bool:
        """Answer methods other than GET and POST with 405 in the API's error envelope."""
        if not super().parse_request():
            return False
        if self.command in METHODS:
            return True
        self.close_connection = True  # any body stays unread
        self._send(failure(self.server.emulator.ids.request_id(), not_allowed(self.command)))
        return False

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """Malformed requests get the API's JSON error envelope, not an HTML page (and the
        request line is not echoed: its query may hold the API key)."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # answer with a status line and headers anyway
        status = HTTPStatus(code)
        name = "InvalidParameter" if code == 400 else "".join(status.phrase.title().split())
        error = ApiError(name, f"{status.phrase}: {status.description}.", code)
        self._send(failure(self.server.emulator.ids.request_id(), error))

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _length(self) -> int | None:
        raw = self.headers.get("Content-Length")
        if raw is None:
            return None if self.headers.get("Transfer-Encoding") else 0
        try:
            return int(raw) if int(raw) >= 0 else None
        except ValueError:
            return None

    def _serve(self) -> None:
        url = urlsplit(self.path)
        length = self._length()
        emulator = self.server.emulator
        if length is None:
            self.close_connection = True
            error = ApiError("LengthRequired", "Send the body with a valid Content-Length.", 411)
            return self._send(failure(emulator.ids.request_id(), error))
        if length > MAX_BODY_BYTES:
            self.close_connection = True  # the body stays unread
            return self._send(emulator.handle_raw(url.query, None, body_size=length))
        body = self.rfile.read(length)
        if len(body) < length:  # the client hung up mid-body
            self.close_connection = True
            return None
        auth = self.headers.get("Authorization")
        self._send(route(emulator, self.command, url.path, url.query, auth, body))

    def _send(self, reply: Reply) -> None:
        self._reader.request_read()
        content = reply.content()
        self.send_response(reply.status)
        for name, value in reply.all_headers().items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(content)


class EmulatorServer:
    """The emulator on `http://host:port` (loopback, ephemeral port unless told otherwise), or
    on a `listening` socket bound beforehand (connections already waiting on it are served)."""

    def __init__(self, emulator: Emulator | None = None, host: str = "127.0.0.1",
                 port: int = 0, *, allow_remote: bool = False,
                 request_timeout: float = REQUEST_SECONDS,
                 listening: socket.socket | None = None) -> None:
        host, port = listening.getsockname()[:2] if listening is not None else (host, port)
        if not allow_remote and not is_loopback(host):
            raise ValueError(f"refusing to serve on {host!r}: not a loopback address; "
                             "pass allow_remote=True (--allow-remote) to serve other machines")
        if not (math.isfinite(request_timeout) and request_timeout > 0):
            raise ValueError(f"request_timeout must be a positive number of seconds, "
                             f"not {request_timeout!r}")
        self.request_timeout = float(request_timeout)
        self.emulator = emulator if emulator is not None else Emulator()
        self.host, self.port = host.strip("[]"), port
        self._listening = listening  # a socket bound (and listening) before the emulator was made
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._sweeper: Sweeper | None = None

    @property
    def url(self) -> str:
        """The endpoint to give a client, e.g. `http://127.0.0.1:54321`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> EmulatorServer:
        """Bind and serve in a background thread; returns self."""
        if self._server is not None:
            return self
        kind = _V6Server if ":" in self.host else _Server
        self._server = kind((self.host, self.port), self.emulator, self.request_timeout,
                            self._listening)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"agentbay-emulator:{self.port}", daemon=True)
        self._thread.start()
        self._sweeper = Sweeper(self.emulator.release_expired,
                                f"agentbay-emulator-expiry:{self.port}").start()
        return self

    def stop(self) -> None:
        """Stop serving, kill running commands, remove sandboxes, close connections."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        if self._sweeper is not None:
            self._sweeper.stop()
            self._sweeper = None
        self.emulator.close()
        server.drop_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
