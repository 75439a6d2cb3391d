"""Fixtures for the emulator tests: an emulator on a virtual clock, raw calls, a loopback server."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from pytest_agentbay.clock import VirtualClock
from pytest_agentbay.emulator import Emulator, EmulatorServer, EmulatorTransport

KEY = "akm-test-key-1"
OTHER_KEY = "akm-test-key-2"
QUERY = {"Format": "json", "Version": "2025-05-06"}


@dataclass
class FakeResult:
    stdout: str = ""
    stderr: str = ""
    exit_code: int = 0
    timed_out: bool = False
    truncated: bool = False


@dataclass
class FakeSandbox:
    """Stands in for the real sandbox where a test is about the API, not about processes."""

    root: Path
    name: str
    isolation: str
    commands: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False

    def run(self, command: str, *, timeout_ms: int, cwd: str | None = None,
            envs: Mapping[str, str] | None = None) -> FakeResult:
        self.commands.append({"command": command, "timeout_ms": timeout_ms, "cwd": cwd,
                              "envs": dict(envs or {})})
        if command == "fail":
            return FakeResult(stdout="partial", stderr="it broke", exit_code=3)
        if command == "hang":
            return FakeResult(stdout="early", timed_out=True, exit_code=124)
        return FakeResult(stdout=f"ran {command}", stderr="")

    def close(self) -> None:
        self.closed = True


class Api:
    """Raw API calls through the in-process transport, as a wire-level client would send them."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def post(self, action: str | None, key: str | None = KEY, *, query: Mapping[str, str]
             | None = None, **form: Any) -> httpx.Response:
        params = dict(QUERY, **(query or {}))
        if action is not None:
            params["Action"] = action
        body = {k: v for k, v in form.items() if v is not None}
        if key is not None:
            body["Authorization"] = f"Bearer {key}"
        return self.client.post("/", params=params, data=body)

    def ok(self, action: str, key: str = KEY, **form: Any) -> dict[str, Any]:
        """Call and assert the success envelope; return the body."""
        response = self.post(action, key, **form)
        body: dict[str, Any] = response.json()
        assert response.status_code == 200, body
        assert body["Success"] is True and body["Code"] == "ok", body
        assert body["HttpStatusCode"] == 200 and body["RequestId"]
        return body

    def error(self, action: str | None, status: int, code: str, key: str | None = KEY,
              **form: Any) -> dict[str, Any]:
        """Call and assert an HTTP error envelope with `code`; return the body."""
        response = self.post(action, key, **form)
        body: dict[str, Any] = response.json()
        assert (response.status_code, body["Code"]) == (status, code), body
        assert body["RequestId"] and body["Message"] and body["Success"] is False
        return body

    def create(self, key: str = KEY, **form: Any) -> str:
        """Create a session and return its id."""
        return str(self.ok("CreateMcpSession", key, **form)["Data"]["SessionId"])

    def status(self, session_id: str, key: str = KEY) -> str:
        return str(self.ok("GetSession", key, SessionId=session_id)["Data"]["Status"])

    def tool(self, session_id: str, name: str, args: Mapping[str, Any] | None = None,
             key: str = KEY) -> tuple[Any, bool]:
        """Call a tool; return its payload (parsed when JSON) and isError."""
        body = self.ok("CallMcpTool", key, SessionId=session_id, Name=name,
                       Args=json.dumps(args or {}), AutoGenSession="False", Server="")
        text = body["Data"]["content"][0]["text"]
        try:
            payload = json.loads(text)
        except ValueError:
            payload = text
        return payload, body["Data"]["isError"]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def sandboxes() -> list[FakeSandbox]:
    return []


@pytest.fixture
def emulator(clock: VirtualClock, sandboxes: list[FakeSandbox], tmp_path: Path
             ) -> Iterator[Emulator]:
    """An emulator on a virtual clock with fake sandboxes (API behaviour only)."""

    def factory(root: Path, name: str, isolation: str) -> FakeSandbox:
        sandbox = FakeSandbox(root, name, isolation)
        sandboxes.append(sandbox)
        return sandbox

    emu = Emulator(clock=clock, seed=7, root=tmp_path / "boxes", sandbox_factory=factory)
    yield emu
    emu.close()


@pytest.fixture
def api(emulator: Emulator) -> Iterator[Api]:
    with httpx.Client(transport=EmulatorTransport(emulator), base_url="http://emulator") as c:
        yield Api(c)


@pytest.fixture
def real_emulator(tmp_path: Path) -> Iterator[Emulator]:
    """An emulator running commands for real, in sandboxes under tmp_path."""
    emu = Emulator(root=tmp_path / "boxes")
    yield emu
    emu.close()


@pytest.fixture
def real_api(real_emulator: Emulator) -> Iterator[Api]:
    transport = EmulatorTransport(real_emulator)
    with httpx.Client(transport=transport, base_url="http://emulator") as c:
        yield Api(c)


@pytest.fixture
def server(real_emulator: Emulator) -> Iterator[EmulatorServer]:
    """A loopback server on an ephemeral port, stopped after the test."""
    with EmulatorServer(real_emulator) as srv:
        yield srv
