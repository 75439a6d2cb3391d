"""The official SDK 0.22.3's file_system and code against the loopback server, sync and async."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pytest_agentbay.emulator import Emulator

from . import files_scenario as scenario
from .test_official_sdk import endpoint, sdk  # noqa: F401 (fixtures)


def _session(sdk: Any, image: str = "code_latest") -> Any:  # noqa: F811
    created = sdk.AgentBay().create(sdk.CreateSessionParams(image_id=image))
    assert created.success, created.error_message
    return created.session


def test_sync_sdk_files_and_code(sdk: Any, endpoint: str) -> None:  # noqa: F811
    session = _session(sdk)
    asyncio.run(scenario.everything(session))
    assert session.delete().success


@pytest.mark.asyncio
async def test_async_sdk_files_and_code(sdk: Any, endpoint: str) -> None:  # noqa: F811
    created = await sdk.AsyncAgentBay().create(sdk.CreateSessionParams(image_id="code_latest"))
    assert created.success, created.error_message
    # The async SDK spends ~0.3 s per call making a TLS context: a smaller large file (3 chunks).
    await scenario.everything(created.session, big_lines=5000)
    assert (await created.session.delete()).success


def test_sessions_do_not_share_files_or_runs(sdk: Any, endpoint: str) -> None:  # noqa: F811
    one, two = _session(sdk), _session(sdk)
    assert one.file_system.write_file("mine.txt", "secret").success  # relative: under HOME
    assert one.code.run_code("open('ran.txt', 'w').write('x')", "python").success
    for path in ("mine.txt", "ran.txt"):
        other = two.file_system.read_file(path)
        assert not other.success and "ENOENT" in other.error_message
    assert two.code.run_code("1", "python").execution_count == 1
    assert one.delete().success and two.delete().success


def test_images_without_the_tools(sdk: Any, endpoint: str) -> None:  # noqa: F811
    mobile = _session(sdk, "mobile_latest")
    refused = mobile.file_system.write_file("/sdcard/x.txt", "x")
    assert not refused.success and "Tool 'write_file' is not available" in refused.error_message
    linux = _session(sdk, "linux_latest")
    assert linux.file_system.write_file("x.txt", "x").success
    no_code = linux.code.run_code("print(1)", "python")
    assert not no_code.success and "Tool 'run_code' is not available" in no_code.error_message


def test_timeout_kills_the_whole_process_group(
    sdk: Any, endpoint: str, real_emulator: Emulator  # noqa: F811
) -> None:
    session = _session(sdk)
    # A child that outlives its parent's death would keep writing; the timeout must end it.
    slow = session.code.run_code(
        "import subprocess\n"
        "subprocess.Popen(['bash', '-c', 'sleep 1.5; echo late > survived.txt'])\n"
        "import time\ntime.sleep(30)", "python", timeout_s=1)
    assert not slow.success and slow.error.name == "TimeoutError"
    waited = session.command.execute_command("sleep 2; ls survived.txt", timeout_ms=5000)
    assert not waited.success, "the run's child survived its timeout"
    assert session.delete().success
