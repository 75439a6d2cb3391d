"""The run's local backend, started on first use. At configure time only a loopback socket is
bound (microseconds): its address is exported and given to xdist workers at once. The emulator
(its imports, the sandbox isolation probe in a new process, the server thread) starts when
something first needs it: a fixture or test of this process (`start`), or the first connection
to the socket, from any process (a worker, code under test building its own client)."""

from __future__ import annotations

import contextlib
import selectors
import shutil
import socket
import tempfile
import threading
from typing import Any

POSIX_MODULES = ("pwd", "fcntl")  # what the emulator's sandboxes need; Windows has neither


class LocalUnavailable(RuntimeError):
    """The local backend could not start; the message says why and what to do."""


def cannot_run(missing: str) -> str:
    """Why the local backend cannot run on a system without `missing`."""
    return (
        f"the local backend cannot run here: it runs commands with bash in POSIX sandboxes "
        f"(Linux or macOS), and this system lacks {missing}. Set AGENTBAY_API_KEY for the cloud "
        "backend, or run without --agentbay to replay cassettes (they replay on every system)"
    )


class LocalStarter:
    """A loopback socket now; the emulator behind it once, on first use, from any thread."""

    def __init__(self, key: str, limits: dict[str, int], isolation: str = "") -> None:
        self.key, self.limits = key, limits
        self.isolation = isolation  # known before start only when probed at configure
        self.listening = socket.create_server(("127.0.0.1", 0), backlog=1024)
        self.url = f"http://127.0.0.1:{self.listening.getsockname()[1]}"
        self.error = ""  # why the start failed; later uses fail the same way
        self._lock = threading.Lock()
        self._server: Any = None  # an EmulatorServer once started
        self._root: str | None = None
        self._closed = False
        self._wake, self._waker = socket.socketpair()  # ends the watch at close
        self._watch = threading.Thread(target=self._watch_first, name="agentbay-local-wait",
                                       daemon=True)
        self._watch.start()

    @property
    def started(self) -> bool:
        """Whether the emulator runs (or ran) behind the socket."""
        return self._server is not None

    def _watch_first(self) -> None:
        """Start on the first connection, whoever makes it (it waits in the socket's queue)."""
        with contextlib.suppress(OSError, ValueError), selectors.DefaultSelector() as waiting:
            waiting.register(self.listening, selectors.EVENT_READ)  # (epoll: any fd number)
            waiting.register(self._wake, selectors.EVENT_READ)
            ready = {key.fileobj for key, _ in waiting.select()}
            if self.listening in ready and self._wake not in ready:
                with contextlib.suppress(LocalUnavailable):  # kept in self.error
                    self.start()

    def start(self) -> None:
        """Start the emulator behind the socket, once; LocalUnavailable when it cannot."""
        with self._lock:
            if self._server is not None:
                return
            if self.error or self._closed:
                raise LocalUnavailable(self.error or "the local backend was stopped")
            try:
                self._server = self._started()
            except Exception as error:  # (an interrupt is not a failure: a later use retries)
                self.error = str(error) if isinstance(error, LocalUnavailable) else (
                    f"the local backend failed to start: {type(error).__name__}: {error}")
                self.listening.close()  # clients waiting on it are refused, not left hanging
                raise LocalUnavailable(self.error) from error

    def _started(self) -> Any:
        try:  # only runs that use the local backend pay for importing it
            from ..emulator.core import Emulator
            from ..emulator.limits import Limits
            from ..emulator.server import EmulatorServer
        except ImportError as error:  # Windows: no pwd, process groups or bash sandboxes
            raise LocalUnavailable(cannot_run(error.name or str(error))) from None
        root = self._root = tempfile.mkdtemp(prefix="agentbay-local-")
        emulator = Emulator(api_keys=[self.key], root=root, limits=Limits(**self.limits))
        try:
            server = EmulatorServer(emulator, listening=self.listening).start()
        except BaseException:
            emulator.close()
            raise
        self.isolation = emulator.isolation
        return server

    def close(self) -> None:
        """Stop the emulator (if it started) and release the socket and the sandboxes' root."""
        with contextlib.suppress(OSError):
            self._waker.send(b"x")
        self._watch.join(timeout=5)  # a start it began finishes first (the lock below waits)
        with self._lock:
            self._closed = True
            server, self._server = self._server, None
            if server is not None:
                server.stop()  # closes the socket too
            else:
                self.listening.close()
            if self._root is not None:  # else every run leaves an agentbay-local-* directory
                shutil.rmtree(self._root, ignore_errors=True)
                self._root = None
        self._wake.close()
        self._waker.close()
