"""Long-lived programs in a sandbox (`Sandbox.call_agent`): framing, faults, and their end."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_agentbay.emulator._agents import AgentError, ReplyTooLarge
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
