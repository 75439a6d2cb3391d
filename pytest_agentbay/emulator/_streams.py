"""A running program's pipes: feed its stdin, read its output up to a cap, until it exits."""

from __future__ import annotations

import contextlib
import os
import selectors
import time

from pytest_agentbay.emulator._children import Child

_CHUNK = 65536
_DRAIN_SECONDS = 0.05  # bound on reading leftovers once the program has ended or been killed
_POLL_SECONDS = 0.01  # exit polling interval where pidfds are unavailable


class Capture:
    """One output stream, kept up to ``cap`` bytes."""

    def __init__(self, cap: int) -> None:
        self.data = bytearray()
        self.truncated = False
        self._cap = cap

    def feed(self, chunk: bytes) -> None:
        room = self._cap - len(self.data)
        if len(chunk) > room:
            self.truncated = True
            chunk = chunk[:room]
        self.data += chunk


def collect(
    proc: Child, feed: int | None, stdin: bytes, timeout: float, cap: int
) -> tuple[Capture, Capture, bool]:
    """Feed stdin and read both pipes until the program exits (not until every holder closes
    them) or time is up."""
    out, err = Capture(cap), Capture(cap)
    streams = {proc.stdout: out, proc.stderr: err}
    deadline = time.monotonic() + timeout
    exited = False
    wake = proc.exit_fd()
    pending: memoryview | None = memoryview(stdin)
    with selectors.DefaultSelector() as sel:
        if wake is not None:
            sel.register(wake, selectors.EVENT_READ)
        for fd in streams:
            sel.register(fd, selectors.EVENT_READ)
        if feed is not None:
            os.set_blocking(feed, False)
            sel.register(feed, selectors.EVENT_WRITE)
        try:
            while not exited and (remaining := deadline - time.monotonic()) > 0:
                for key, _ in sel.select(remaining if wake is not None else _POLL_SECONDS):
                    if key.fd in streams:
                        chunk = os.read(key.fd, _CHUNK)
                        if chunk:
                            streams[key.fd].feed(chunk)
                        else:
                            sel.unregister(key.fd)
                    elif key.fd == feed and pending is not None:
                        pending = _write_some(sel, feed, pending)
                exited = proc.exited()
        finally:
            if feed is not None and pending is not None:
                os.close(feed)
    _drain(streams)
    return out, err, not exited


def _write_some(sel: selectors.BaseSelector, feed: int, pending: memoryview) -> memoryview | None:
    """Write what the pipe takes; at the end (or if the program closed its stdin) close it."""
    try:
        pending = pending[os.write(feed, pending[:_CHUNK]):]
    except BlockingIOError:
        return pending
    except OSError:  # EPIPE: the program does not read its stdin
        pending = pending[:0]
    if pending:
        return pending
    sel.unregister(feed)
    os.close(feed)
    return None


def _drain(streams: dict[int, Capture]) -> None:
    """Take what is already buffered; background jobs may hold the pipes open forever."""
    end = time.monotonic() + _DRAIN_SECONDS
    for fd, capture in streams.items():
        os.set_blocking(fd, False)
        with contextlib.suppress(BlockingIOError):
            while time.monotonic() < end and (chunk := os.read(fd, _CHUNK)):
                capture.feed(chunk)
