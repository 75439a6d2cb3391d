"""Real command execution through the emulator: cwd, envs, timeouts, caps, isolation, overlap."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from pytest_agentbay.emulator import Emulator, EmulatorTransport
from pytest_agentbay.emulator.sandbox import OUTPUT_CAP

from .conftest import KEY, QUERY, Api


def test_cwd_with_spaces_and_tricky_envs(real_api: Api) -> None:
    session_id = real_api.create()
    made, is_error = real_api.tool(session_id, "shell", {"command": 'mkdir -p "$HOME/my dir"'})
    assert not is_error, made
    home = real_api.tool(session_id, "shell", {"command": 'printf %s "$HOME"'})[0]["stdout"]
    value = "it's \"quoted\"; echo injected\nsecond line $(whoami)"
    payload, is_error = real_api.tool(session_id, "shell", {
        "command": 'pwd; printf "%s" "$TRICKY"', "cwd": f"{home}/my dir",
        "envs": {"TRICKY": value}})
    assert not is_error, payload
    assert payload["stdout"] == f"{home}/my dir\n{value}"


def test_failure_and_timeout(real_api: Api) -> None:
    session_id = real_api.create()
    payload, is_error = real_api.tool(session_id, "shell", {"command": "echo out; echo err >&2; "
                                                                       "exit 7"})
    assert is_error and payload["errorCode"] == 7
    assert (payload["stdout"], payload["stderr"]) == ("out\n", "err\n")
    started = time.monotonic()
    payload, is_error = real_api.tool(session_id, "shell", {"command": "echo early; sleep 30",
                                                            "timeout_ms": 300})
    assert time.monotonic() - started < 10
    assert is_error and payload["errorCode"] == 124 and payload["stdout"] == ""


def test_timeout_leaves_no_stray_process(real_api: Api) -> None:
    session_id = real_api.create()
    marker = "agentbay-stray-check-41713"
    real_api.tool(session_id, "shell", {"command": f"(sleep 60; echo {marker}) & sleep 60",
                                        "timeout_ms": 300})
    deadline = time.monotonic() + 3
    while _processes_mentioning(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_mentioning(marker) == []


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            pass
    return found


def test_huge_output_is_capped_without_hanging(real_api: Api) -> None:
    session_id = real_api.create()
    started = time.monotonic()
    payload, is_error = real_api.tool(session_id, "shell", {
        "command": f"head -c {OUTPUT_CAP * 4} /dev/zero | tr '\\0' x", "timeout_ms": 20_000})
    assert not is_error
    assert len(payload["stdout"].encode()) <= OUTPUT_CAP + 1024
    assert payload["truncated"] is True  # said, not silent
    assert time.monotonic() - started < 15
    small, _ = real_api.tool(session_id, "shell", {"command": "echo small"})
    assert "truncated" not in small


def test_files_of_one_session_are_invisible_to_another(real_api: Api) -> None:
    a, b = real_api.create(), real_api.create()
    real_api.tool(a, "shell", {"command": "echo secret > $HOME/mine.txt; echo t > /tmp/mine.txt"})
    seen, _ = real_api.tool(b, "shell", {"command": "cat $HOME/mine.txt /tmp/mine.txt || true"})
    assert "secret" not in seen["stdout"] and seen["stdout"] != "t\n"
    again, _ = real_api.tool(a, "shell", {"command": "cat $HOME/mine.txt /tmp/mine.txt"})
    assert again["stdout"] == "secret\nt\n"


def test_delete_kills_running_commands(real_emulator: Emulator, real_api: Api) -> None:
    session_id = real_api.create()
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(real_api.tool, session_id, "shell",
                              {"command": "sleep 30", "timeout_ms": 60_000})
        time.sleep(0.3)
        started = time.monotonic()
        real_api.ok("DeleteSessionAsync", SessionId=session_id)
        running.result(timeout=10)
    assert time.monotonic() - started < 10
    assert real_emulator.live_sessions() == []  # no knob set: deleted at once


def test_concurrent_commands_overlap_across_threads(real_api: Api) -> None:
    sessions = [real_api.create() for _ in range(3)]
    started = time.monotonic()
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda s: real_api.tool(s, "shell", {"command": "sleep 0.5"}),
                                sessions * 2))
    assert all(not is_error for _, is_error in results)
    assert time.monotonic() - started < 2.5  # six 0.5 s commands, two per session, overlapped


@pytest.mark.asyncio
async def test_async_client_commands_really_overlap(real_emulator: Emulator) -> None:
    transport = EmulatorTransport(real_emulator)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:

        async def call(action: str, **form: str) -> dict[str, object]:
            form["Authorization"] = f"Bearer {KEY}"
            response = await client.post("/", params={**QUERY, "Action": action}, data=form)
            body: dict[str, object] = response.json()
            return body

        created = await call("CreateMcpSession")
        session_id = str(created["Data"]["SessionId"])  # type: ignore[index]
        args = json.dumps({"command": "sleep 0.5; echo done"})
        started = time.monotonic()
        replies = await asyncio.gather(*[call("CallMcpTool", SessionId=session_id, Name="shell",
                                              Args=args) for _ in range(8)])
        elapsed = time.monotonic() - started
    texts = [json.loads(r["Data"]["content"][0]["text"]) for r in replies]  # type: ignore[index]
    assert all(t["stdout"] == "done\n" for t in texts)
    assert elapsed < 2.5  # eight 0.5 s commands in one session, overlapped
