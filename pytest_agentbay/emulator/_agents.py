"""Long-lived helper programs in a session's sandbox (the file agent), spoken to in frames.

Starting ``python3`` in the sandbox for every file call cost ~10 shell calls; a program that
stays up answers in about one. It is started like a command (by the sandbox's spawn server,
as the session's user, with the session's view), so it touches exactly what the session's
commands touch, and it dies with the sandbox.

Protocol, on the program's stdin and stdout: a request is a 4-byte big-endian length, then an
8-byte sequence number and the body; the reply is a 4-byte length (of what follows the
number), the request's sequence number, then the payload. The session can kill, stop or feed
garbage to its own agent (it runs as the session's user): the emulator then gets a clear
error, drops that program and starts a fresh one, and never waits past the call's timeout.
The reply is parsed by hand, never unmarshalled: the session could forge it.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
from collections.abc import Callable

from pytest_agentbay.emulator._children import Child

_LENGTH, _SEQ = 4, 8
_CHUNK = 1 << 20
IDLE_KEPT = 1  # idle programs kept per pool: more only live while calls overlap


class AgentError(RuntimeError):
    """The call got no answer from the program; the text says why."""


class AgentTimeout(AgentError):
    """The program did not answer in time (it was stopped or is stuck); it was killed."""


class ReplyTooLarge(AgentError):
    """The reply was larger than one call may return; the program was restarted."""


class AgentGone(AgentError):
    """The program had ended before it read the request: safe to send it to another."""


class Running:
    """A started program with a pipe to its stdin and one from its stdout."""

    def __init__(self, proc: Child, stdin: int, stop: Callable[[], None]) -> None:
        self.stdin = stdin
        self.stdout = proc.stdout
        self._stop = stop
        os.set_blocking(stdin, False)
        os.set_blocking(self.stdout, False)

    def stop(self) -> None:
        """Kill the program's process group, let it be reaped, close the pipes."""
        with contextlib.suppress(OSError):
            os.close(self.stdin)
        self._stop()


class Agent:
    """One running program and the next sequence number; one call at a time."""

    def __init__(self, program: Running) -> None:
        self.program = program
        self._seq = 0

    def idle_and_alive(self) -> bool:
        """No stray output waiting (an idle program writes nothing) and no end of file."""
        return not _ready(self.program.stdout, select.POLLIN, 0)

    def call(self, body: bytes, deadline: float, cap: int) -> bytes:
        """Send one request, return the payload of its reply."""
        self._seq += 1
        seq = self._seq.to_bytes(_SEQ, "big")
        data = (len(body) + _SEQ).to_bytes(_LENGTH, "big") + seq + body
        self._send(memoryview(data), deadline)
        head = self._receive(_LENGTH + _SEQ, deadline)
        if head[_LENGTH:] != seq:
            raise AgentError("the file agent answered out of turn (was it tampered with?)")
        size = int.from_bytes(head[:_LENGTH], "big")
        if size > cap:
            raise ReplyTooLarge(f"the reply is {size} bytes; one call returns at most {cap}")
        return self._receive(size, deadline)

    def _send(self, data: memoryview, deadline: float) -> None:
        sent = 0
        while sent < len(data):
            _wait(self.program.stdin, deadline, write=True)
            try:
                sent += os.write(self.program.stdin, data[sent : sent + _CHUNK])
            except BlockingIOError:
                continue
            except OSError as exc:  # EPIPE: nobody reads; it cannot have run the request
                cls = AgentGone if sent == 0 else AgentError
                raise cls(f"the file agent has ended ({exc.strerror})") from None

    def _receive(self, size: int, deadline: float) -> bytes:
        data = bytearray()
        while len(data) < size:
            _wait(self.program.stdout, deadline, write=False)
            try:
                chunk = os.read(self.program.stdout, min(size - len(data), _CHUNK))
            except BlockingIOError:
                continue
            if not chunk:
                raise AgentError("the file agent ended while working on this call (was it "
                                 "killed?); the next call starts a new one")
            data += chunk
        return bytes(data)


def _wait(fd: int, deadline: float, *, write: bool) -> None:
    remaining = max(deadline - time.monotonic(), 0)
    if not _ready(fd, select.POLLOUT if write else select.POLLIN, remaining):
        raise AgentTimeout("timed out")


def _ready(fd: int, events: int, seconds: float) -> bool:
    """Whether `fd` is ready (or closed) within `seconds`: poll(), which, unlike select(),
    takes descriptors above 1023 (an emulator with hundreds of sessions has them)."""
    poller = select.poll()
    poller.register(fd, events)
    return bool(poller.poll(seconds * 1000))


class AgentPool:
    """The agents of one sandbox for one program: a kept one, more while calls overlap.

    A call takes an idle agent (or starts one), so a call stuck in the sandbox (a FIFO that
    nobody writes, a stopped agent) never holds up the others; a failed agent is dropped.
    """

    def __init__(self, start: Callable[[], Running]) -> None:
        self._start = start
        self._idle: list[Agent] = []
        self._lock = threading.Lock()
        self._closed = False

    def call(self, body: bytes, timeout: float, cap: int) -> bytes:
        """The payload of the reply to ``body``; AgentError if there is none."""
        deadline = time.monotonic() + timeout
        for attempt in (1, 2):
            agent = self._take()
            try:
                reply = agent.call(body, deadline, cap)
            except AgentGone:
                agent.program.stop()
                if attempt == 2:
                    raise
                continue  # killed while idle: a fresh one runs this request
            except BaseException:
                agent.program.stop()
                raise
            self._give_back(agent)
            return reply
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Stop the idle agents; busy ones are stopped when their call returns."""
        with self._lock:
            self._closed, idle, self._idle = True, self._idle, []
        for agent in idle:
            agent.program.stop()

    def _take(self) -> Agent:
        while True:
            with self._lock:
                if self._closed:
                    raise AgentError("the session's sandbox is closed")
                agent = self._idle.pop() if self._idle else None
            if agent is None:
                return Agent(self._start())
            if agent.idle_and_alive():
                return agent
            agent.program.stop()  # killed or tampered with while idle

    def _give_back(self, agent: Agent) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < IDLE_KEPT:
                self._idle.append(agent)
                return
        agent.program.stop()
