"""Long-lived programs in a sandbox (`Sandbox.call_agent`): framing, faults, and their end."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_agentbay.emulator._agents import AgentError, AgentPool, ReplyTooLarge, Running
from pytest_agentbay.emulator.sandbox import OUTPUT_CAP, Sandbox

from .test_sandbox import MODES, _all_gone, _make

TOKEN = secrets.token_hex(6)
# Answers each request with its body reversed; b"die" exits, b"wrong" answers out of turn,
# b"big<n>" answers n bytes.
ECHO = f"""# echo-agent-{TOKEN}
import os
def exactly(n):
    data = b""
    while len(data) < n:
        chunk = os.read(0, n - len(data))
        if not chunk:
            raise SystemExit
        data += chunk
    return data
while True:
    body = exactly(int.from_bytes(exactly(4), "big"))
    seq, request = body[:8], body[8:]
    if request == b"die":
        os._exit(3)
    out = b"x" * int(request[3:]) if request.startswith(b"big") else request[::-1]
    if request == b"wrong":
        seq = bytes(8)
    reply = memoryview(len(out).to_bytes(4, "big") + seq + out)
    while reply:
        reply = reply[os.write(1, reply):]
"""
ARGV = ("python3", "-I", "-S", "-c", ECHO)


@pytest.fixture(params=MODES)
def box(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    sandbox = _make(tmp_path, "a-1", str(request.param))
    yield sandbox
    sandbox.close()


def _echo_pids() -> list[int]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if f"echo-agent-{TOKEN}".encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


def _call(box: Sandbox, request: bytes) -> bytes:
    return box.call_agent(ARGV, request, timeout_ms=5000)


def test_one_program_answers_every_call_in_turn(box: Sandbox) -> None:
    assert [_call(box, f"call {n}".encode()) for n in range(20)] == [
        f"call {n}".encode()[::-1] for n in range(20)]
    assert len(_echo_pids()) == 1
    assert _call(box, f"big{OUTPUT_CAP}".encode()) == b"x" * OUTPUT_CAP


def test_faults_are_errors_for_that_call_and_the_next_call_works(box: Sandbox) -> None:
    with pytest.raises(AgentError, match="ended while working on this call"):
        _call(box, b"die")
    assert _call(box, b"ab") == b"ba"
    with pytest.raises(AgentError, match="out of turn"):
        _call(box, b"wrong")
    assert _call(box, b"cd") == b"dc"
    with pytest.raises(ReplyTooLarge):
        _call(box, f"big{OUTPUT_CAP + 1}".encode())
    assert _call(box, b"ef") == b"fe"
    assert len(_echo_pids()) == 1, "each broken program was ended"


def test_close_ends_the_program_at_once(box: Sandbox) -> None:
    _call(box, b"x")
    pids = _echo_pids()
    started = time.monotonic()
    box.close()
    assert time.monotonic() - started < 0.5  # not waiting out the spawn server's grace time
    assert pids and _all_gone(pids)
    with pytest.raises(RuntimeError, match="closed"):
        _call(box, b"x")


class _Host:
    """A program on the host standing in for a sandbox's started command (`.stdout` only)."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdout = self.proc.stdout.fileno()

    def running(self) -> Running:
        assert self.proc.stdin is not None
        return Running(self, os.dup(self.proc.stdin.fileno()), self.stop)  # type: ignore[arg-type]

    def stop(self) -> None:
        self.proc.kill()
        self.proc.communicate()


def test_a_program_that_stopped_reading_is_replaced_before_it_gets_the_request() -> None:
    # It keeps its stdout open but closed its stdin: it looks idle and alive, and the
    # request cannot reach it, so it is sent to a fresh program instead of failing the call.
    deaf = _Host([sys.executable, "-c", "import os, time; os.close(0); time.sleep(30)"])
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{deaf.proc.pid}/fd/0"):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    started = iter([deaf, _Host([sys.executable, "-I", "-S", "-c", ECHO])])
    pool = AgentPool(lambda: next(started).running())
    first = pool.call(b"one", 5, OUTPUT_CAP)
    assert first == b"eno"
    pool.close()
