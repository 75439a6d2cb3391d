"""The official SDK (wuying-agentbay-sdk 0.22.3) against the loopback server, sync and async."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pytest_agentbay.emulator import Emulator, EmulatorServer

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The `agentbay` package, logging quietly to a temporary file instead of ./agentbay.log."""
    log_file = tmp_path_factory.mktemp("sdk-log") / "agentbay.log"
    saved = os.environ.get("AGENTBAY_LOG_FILE")
    os.environ["AGENTBAY_LOG_FILE"] = str(log_file)
    try:
        import agentbay  # type: ignore[import-untyped]

        agentbay.AgentBayLogger.setup(level="ERROR", enable_file=False, force_reinit=True)
        yield agentbay
    finally:
        if saved is None:
            os.environ.pop("AGENTBAY_LOG_FILE", None)
        else:
            os.environ["AGENTBAY_LOG_FILE"] = saved


@pytest.fixture
def endpoint(server: EmulatorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """The server, reachable the way protocol 2.3 says: AGENTBAY_ENDPOINT, no region, no proxy."""
    monkeypatch.chdir(tmp_path)  # no stray .env is picked up, no log lands in the project
    monkeypatch.setenv("AGENTBAY_ENDPOINT", server.url)
    monkeypatch.setenv("AGENTBAY_API_KEY", "akm-sdk-test")
    monkeypatch.delenv("AGENTBAY_REGION_ID", raising=False)
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    return server.url


def _labels() -> dict[str, str]:
    return {"suite": "official-sdk", "run": uuid.uuid4().hex[:8]}


def test_sync_session_lifecycle(sdk: Any, endpoint: str, real_emulator: Emulator) -> None:
    agent_bay = sdk.AgentBay()
    labels = _labels()
    created = agent_bay.create(sdk.CreateSessionParams(image_id="linux_latest", labels=labels))
    assert created.success, created.error_message
    session = created.session
    listed = agent_bay.list(labels=labels)
    assert [item["sessionId"] for item in listed.session_ids] == [session.session_id]
    assert listed.session_ids[0]["sessionStatus"] == "RUNNING"
    assert agent_bay.list(labels={**labels, "run": "other"}).session_ids == []
    assert agent_bay.get(session.session_id).success

    paused = agent_bay.beta_pause(session, poll_interval=0.05)
    assert paused.success and paused.status == "PAUSED", paused.error_message
    refused = session.command.execute_command("echo hi")
    assert not refused.success and "InvalidMcpSession.Paused" in refused.error_message
    resumed = agent_bay.beta_resume(session, poll_interval=0.05)
    assert resumed.success and resumed.status == "RUNNING", resumed.error_message

    deleted = session.delete()
    assert deleted.success, deleted.error_message
    assert agent_bay.list(labels=labels).session_ids == []
    assert not agent_bay.get(session.session_id).success
    assert real_emulator.live_sessions() == []


@pytest.mark.filterwarnings("ignore:Config\\(endpoint=:DeprecationWarning")
def test_sync_commands(sdk: Any, endpoint: str) -> None:
    session = sdk.AgentBay(api_key="akm-sdk-test", cfg=sdk.Config(endpoint=endpoint)).create(
        sdk.CreateSessionParams(image_id="code_latest")).session
    made = session.command.execute_command('mkdir -p "$HOME/with space"; printf %s "$HOME"')
    assert made.success, made.error_message
    tricky = "a'b\"c; echo injected\nline2"
    result = session.command.execute_command('pwd; printf "%s" "$V"',
                                             cwd=f"{made.output}/with space", envs={"V": tricky})
    assert result.success and result.exit_code == 0
    assert result.output == f"{made.output}/with space\n{tricky}"
    failed = session.command.execute_command("echo oops >&2; exit 3")
    assert not failed.success and failed.exit_code == 3 and failed.stderr == "oops\n"
    # The timeout ended the command (not merely the wait for it): its process is gone.
    timed_out = session.command.execute_command("echo $$ > ~/pid; exec sleep 30", timeout_ms=300)
    assert not timed_out.success and timed_out.output == "" and timed_out.error_message
    state = session.command.execute_command("cat /proc/$(cat ~/pid)/stat 2>&- | cut -d' ' -f3")
    assert state.success and state.output.strip() in ("", "Z"), state.output
    assert timed_out.request_id
    metrics = session.get_metrics()
    assert metrics.success and metrics.metrics.cpu_count >= 1 and metrics.metrics.mem_total > 0
    assert session.info().success


def test_sync_agents(sdk: Any, endpoint: str, real_emulator: Emulator) -> None:
    real_emulator.script_task("fail me", error="the button is gone")
    agent_bay = sdk.AgentBay()
    computer = agent_bay.create(sdk.CreateSessionParams(image_id="windows_latest")).session
    done = computer.agent.computer.execute_task_and_wait("open notepad", timeout=9)
    assert done.success and done.task_status == "finished"
    assert done.task_result == "emulated result: task 'open notepad' was not run by a real agent"
    failed = computer.agent.computer.execute_task_and_wait("fail me", timeout=9)
    assert not failed.success and failed.task_status == "failed"
    started = computer.agent.computer.execute_task("long job")
    stopped = computer.agent.computer.terminate_task(started.task_id)
    assert stopped.success and stopped.task_status == "cancelling"
    unknown = computer.agent.computer.get_task_status("task-unknown")
    assert not unknown.success and "task-unknown" in unknown.error_message

    browser = agent_bay.create(sdk.CreateSessionParams(image_id="browser_latest")).session
    answer = browser.agent.browser.execute_task_and_wait("find the weather", timeout=9)
    assert answer.success and "was not run by a real agent" in answer.task_result
    assert browser.delete(sync_context=True).success


@pytest.mark.asyncio
async def test_async_sdk(sdk: Any, endpoint: str, real_emulator: Emulator) -> None:
    agent_bay = sdk.AsyncAgentBay()
    labels = _labels()
    created = await agent_bay.create(sdk.CreateSessionParams(image_id="linux_latest",
                                                             labels=labels))
    assert created.success, created.error_message
    session = created.session
    listed = await agent_bay.list(labels=labels)
    assert [item["sessionId"] for item in listed.session_ids] == [session.session_id]
    assert (await agent_bay.get(session.session_id)).success

    # Overlap shown without a clock: each command waits (up to 20 s) until all four have
    # started; run one after another, the first would give up and fail.
    meet = 'touch ~/met.$N; for _ in $(seq 400); do [ $(ls ~ | grep -c met) -ge 4 ] && break; ' \
        'sleep 0.05; done; [ $(ls ~ | grep -c met) -ge 4 ] && echo $N'
    results = await asyncio.gather(*[
        session.command.execute_command(meet, cwd="/tmp", envs={"N": str(i)}) for i in range(4)])
    assert [r.output for r in results] == [f"{i}\n" for i in range(4)], "commands must overlap"
    timed_out = await session.command.execute_command("sleep 5", timeout_ms=300)
    assert not timed_out.success and timed_out.output == ""

    assert (await agent_bay.beta_pause(session, poll_interval=0.05)).success
    assert (await agent_bay.beta_resume(session, poll_interval=0.05)).success
    done = await session.agent.computer.execute_task_and_wait("say hi", timeout=9)
    assert done.success and done.task_status == "finished"

    browser = (await agent_bay.create(sdk.CreateSessionParams(image_id="browser_latest"))).session
    answer = await browser.agent.browser.execute_task_and_wait("read the news", timeout=9)
    assert answer.success, answer.error_message

    assert (await session.delete()).success
    assert (await browser.delete()).success
    assert (await agent_bay.list(labels=labels)).session_ids == []
    assert real_emulator.live_sessions() == []


def test_idle_release_timeout_and_keep_alive(sdk: Any, endpoint: str,
                                             real_emulator: Emulator) -> None:
    agent_bay = sdk.AgentBay()
    policy = sdk.LifecyclePolicy(idle_release_timeout=5, max_runtime=30)  # minutes
    minutes = agent_bay.create(sdk.CreateSessionParams(lifecycle_policy=policy)).session
    seconds = agent_bay.create(sdk.CreateSessionParams(idle_release_timeout=2)).session
    records = real_emulator.store.sessions
    assert (records[minutes.session_id].idle_seconds,
            records[minutes.session_id].runtime_seconds) == (300, 1800)
    time.sleep(1.2)
    assert seconds.keep_alive().success
    time.sleep(1.2)  # 2.4 s since creation, 1.2 s since the keep-alive
    assert seconds.session_id in {s.session_id for s in real_emulator.live_sessions()}
    deadline = time.monotonic() + 10
    while seconds.session_id in {s.session_id for s in real_emulator.live_sessions()}:
        assert time.monotonic() < deadline, "the idle session was never released"
        time.sleep(0.05)
    assert not seconds.keep_alive().success  # released: not found
    assert minutes.delete().success
