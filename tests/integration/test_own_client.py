"""Our client drives the local backend end to end, in-process and over loopback, sync and async."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from pytest_agentbay import (
    AgentBay,
    AgentOptions,
    AsyncAgentBay,
    Config,
    CreateSessionParams,
    VirtualClock,
)
from pytest_agentbay.emulator import Emulator, EmulatorServer, EmulatorTransport

from ..client.conftest import resolve

KEY = "test-key-123456"
pytestmark = pytest.mark.asyncio


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def emulator(clock: VirtualClock, tmp_path: Any) -> Iterator[Emulator]:
    # Transitions and agent tasks take time on the shared virtual clock: polling is exercised,
    # yet nothing really sleeps.
    emu = Emulator(api_keys=[KEY], clock=clock, settle_seconds=3, task_seconds=7, root=tmp_path)
    yield emu
    emu.close()


@pytest.fixture(params=["in-process", "loopback"])
def way_in(request: pytest.FixtureRequest, emulator: Emulator) -> Iterator[dict[str, Any]]:
    if request.param == "in-process":
        yield {"transport": EmulatorTransport(emulator), "cfg": Config("http://emulator.local")}
    else:
        with EmulatorServer(emulator) as server:
            yield {"cfg": Config(server.url)}


@pytest.fixture(params=["sync", "async"])
def client(request: pytest.FixtureRequest, way_in: dict[str, Any], clock: VirtualClock) -> Any:
    kind = AgentBay if request.param == "sync" else AsyncAgentBay
    return kind(KEY, clock=clock, **way_in)


async def test_session_lifecycle(client: Any, emulator: Emulator) -> None:
    params = CreateSessionParams(image_id="code_latest", labels={"suite": "it", "n": "1"})
    created = await resolve(client.create(params))
    assert created.success, created.error_message
    session = created.session
    await resolve(client.create(CreateSessionParams(labels={"suite": "other"})))

    listed = await resolve(client.list(labels={"suite": "it"}))
    assert listed.session_ids == [session.session_id] and listed.total_count == 1
    got = await resolve(client.get(session.session_id))
    assert got.success and got.session.session_id == session.session_id
    raw = await resolve(client.get_session(session.session_id))
    assert raw.data.status == "RUNNING"
    labels = await resolve(session.get_labels())
    assert labels.data == {"suite": "it", "n": "1"}

    paused = await resolve(client.pause(session, poll_interval=1.0))
    assert (paused.success, paused.status) == (True, "PAUSED"), paused.error_message
    refused = await resolve(session.command.execute_command("echo hi"))
    assert not refused.success  # a paused session runs no tools
    resumed = await resolve(session.resume(poll_interval=1.0))
    assert (resumed.success, resumed.status) == (True, "RUNNING"), resumed.error_message

    deleted = await resolve(session.delete())
    assert deleted.success, deleted.error_message
    assert session.session_id not in [s.session_id for s in emulator.live_sessions()]
    gone = await resolve(client.get(session.session_id))
    assert gone.code == "InvalidMcpSession.NotFound"


async def test_commands(client: Any) -> None:
    session = (await resolve(client.create())).session
    run = session.command.execute_command
    ok = await resolve(run("pwd; echo \"$X\"", cwd="/tmp", envs={"X": "a 'b'; c\nd"}))
    assert ok.success and ok.stdout == "/tmp\na 'b'; c\nd\n"
    failed = await resolve(run("echo bad >&2; exit 4"))
    assert (failed.success, failed.exit_code, failed.stderr) == (False, 4, "bad\n")
    timed_out = await resolve(run("sleep 5", timeout_ms=300))
    assert not timed_out.success and timed_out.output == "" and timed_out.error_message
    assert (await resolve(session.delete())).success


async def test_agent_tasks(client: Any, emulator: Emulator, clock: VirtualClock) -> None:
    emulator.script_task("weather", result={"city": "Shanghai", "sky": "clear"})
    session = (await resolve(client.create(CreateSessionParams(image_id="browser_latest")))).session
    assert (await resolve(session.agent.browser.initialize(AgentOptions(use_vision=True)))).success

    started = clock.now()
    done = await resolve(session.agent.browser.execute_task_and_wait("weather?", max_try_times=10))
    assert done.success and done.task_status == "finished", done.error_message
    assert json.loads(done.task_result) == {"city": "Shanghai", "sky": "clear"}
    assert clock.now() - started >= 7  # it polled every 3 s until the 7 s task finished

    assert (await resolve(session.delete())).success

    session = (await resolve(client.create())).session  # the computer agent: linux_latest
    computer = session.agent.computer
    task = await resolve(computer.execute_task("open the terminal"))
    assert (await resolve(computer.get_task_status(task.task_id))).task_status == "running"
    assert (await resolve(computer.terminate_task(task.task_id))).success
    unknown = await resolve(computer.get_task_status("no-such-task"))
    assert not unknown.success
    result = await resolve(computer.execute_task_and_wait("never ends", max_try_times=1))
    assert not result.success and "timeout" in result.error_message.lower()
    assert (await resolve(session.delete())).success


async def test_wrong_key_is_not_logged_in(way_in: dict[str, Any]) -> None:
    result = AgentBay("wrong-key", **way_in).create()
    assert not result.success and result.code == "NOT_LOGIN"


@pytest.mark.parametrize(("latency", "waited", "reads"), [(0.0, 0.0, 1), (0.5, 0.501, 2)])
async def test_a_delete_waits_a_millisecond_at_most_once_deleting_shows(
    tmp_path: Any, latency: float, waited: float, reads: int
) -> None:
    """With no knob the local backend has finished a delete by the first status read; with a
    delete latency it shows DELETING to one read, and the client's next read, 1 ms later on
    its clock (not 50 ms), finds the session gone (the clock is shared: the latency counts)."""
    clock = VirtualClock()
    emulator = Emulator(api_keys=[KEY], clock=clock, root=tmp_path)
    emulator.set_latency("DeleteSessionAsync", latency)
    transport = EmulatorTransport(emulator)
    try:
        async with AsyncAgentBay(KEY, Config("http://emulator.local"), clock=clock,
                                 transport=transport) as client:
            session = (await client.create()).session
            assert session is not None
            before = clock.slept
            assert (await client.delete(session)).success
        assert clock.slept - before == pytest.approx(waited)
        assert emulator.requests["GetSessionDetail"] == reads
    finally:
        emulator.close()
