"""Our session.file_system and session.code: the SDK's scenario, and the SDK's exact requests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from pytest_agentbay import AgentBay, AsyncAgentBay, Config, CreateSessionParams
from pytest_agentbay.emulator import Emulator, EmulatorServer, EmulatorTransport
from pytest_agentbay.emulator.reply import Reply
from pytest_agentbay.protocol import files as file_ops

from ..emulator import files_scenario as scenario
from ..emulator.test_official_sdk import endpoint, sdk  # noqa: F401 (fixtures)

KEY = "akm-files-test"


class Recording(Emulator):
    """An emulator that keeps the CallMcpTool requests it answers."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tool_calls: list[dict[str, str]] = []

    def handle(self, params: Mapping[str, str], *, body_size: int = 0) -> Reply:
        if params.get("Action") == "CallMcpTool":
            self.tool_calls.append({k: params[k] for k in
                                    ("Name", "Args", "Server", "AutoGenSession") if k in params})
        return super().handle(params, body_size=body_size)


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Recording]:
    emu = Recording(root=tmp_path / "boxes")
    yield emu
    emu.close()


@pytest.fixture
def server(emulator: Recording) -> Iterator[EmulatorServer]:
    """The loopback server the official SDK talks to (`endpoint` points it there)."""
    with EmulatorServer(emulator) as srv:
        yield srv


def _ours(emulator: Emulator, kind: type[Any] = AgentBay) -> Any:
    return kind(KEY, Config("http://emulator.local"), transport=EmulatorTransport(emulator))


def test_sync_client_runs_the_sdk_scenario(emulator: Recording) -> None:
    session = _ours(emulator).create(CreateSessionParams(image_id="code_latest")).session
    asyncio.run(scenario.everything(session))
    listing = session.file_system.ls(".")
    assert listing.success and all(e.is_file != e.is_directory for e in listing.entries)
    assert session.delete().success


@pytest.mark.asyncio
async def test_async_client_runs_the_sdk_scenario(emulator: Recording) -> None:
    client = _ours(emulator, AsyncAgentBay)
    session = (await client.create(CreateSessionParams(image_id="code_latest"))).session
    await scenario.everything(session)
    assert (await session.delete()).success


def _same_calls(fs: Any, code: Any, home: str) -> None:
    """One call of each kind, including the chunked ones and the failures."""
    big = "ü" * 40_000 + "x" * 30_000  # 110,000 UTF-8 bytes: 3 write chunks, 3 read chunks
    fs.write_file(f"{home}/a/big.txt", big)
    fs.write_file(f"{home}/a/big.txt", "tail", mode="append")
    fs.read_file(f"{home}/a/big.txt")
    fs.read_file(f"{home}/a/big.txt", format="bytes")
    fs.read_file(f"{home}/missing")
    fs.read_multiple_files([f"{home}/a/big.txt", f"{home}/missing"])
    fs.list_directory(f"{home}/a")
    fs.create_directory(f"{home}/b/c")
    fs.move_file(f"{home}/a/big.txt", f"{home}/b/big.txt")
    fs.edit_file(f"{home}/b/big.txt", [{"oldText": "tail", "newText": "end"}], dry_run=True)
    fs.get_file_info(f"{home}/b")
    fs.search_files(f"{home}", "*.txt", exclude_patterns=["a", "c*"])
    fs.delete_file(f"{home}/b/big.txt")
    fs.write_file(f"{home}/x", "x", mode="bogus")  # refused before any request
    code.run_code("print(1)", "Python3", timeout_s=5)
    code.run_code("1", "cobol")  # refused before any request


def test_requests_match_the_official_sdk(
    sdk: Any, endpoint: str, emulator: Recording  # noqa: F811
) -> None:
    theirs = sdk.AgentBay().create(sdk.CreateSessionParams(image_id="code_latest")).session
    ours = _ours(emulator).create(CreateSessionParams(image_id="code_latest")).session
    homes = [s.command.execute_command('printf %s "$HOME"').output for s in (theirs, ours)]
    emulator.tool_calls.clear()
    _same_calls(theirs.file_system, theirs.code, homes[0])
    sdk_calls, emulator.tool_calls = emulator.tool_calls, []
    _same_calls(ours.file_system, ours.code, homes[1])
    assert homes[0] == homes[1]
    assert len(sdk_calls) > 16 and emulator.tool_calls == sdk_calls
    writes = [json.loads(c["Args"]) for c in sdk_calls if c["Name"] == "write_file"]
    assert [w["mode"] for w in writes] == ["overwrite", "append", "append", "append"]
    assert all(len(w["content"].encode()) <= file_ops.MAX_CONTENT_BYTES for w in writes)
