"""The service's own release of sessions: idle_release_timeout (CreateMcpSession `Timeout`),
the lifecycle policy's minutes and MaxRuntime, on the emulator clock; and the server's sweep,
which releases them with no request arriving."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from pytest_agentbay.clock import VirtualClock
from pytest_agentbay.emulator import Emulator, EmulatorServer, EmulatorTransport

from .conftest import Api, FakeResult, FakeSandbox


def _listed(api: Api) -> list[str]:
    """ListSession names no session, so it is no activity: a way to look without touching."""
    return [item["SessionId"] for item in api.ok("ListSession")["Data"]]


def test_an_idle_session_is_released_after_its_timeout(
    api: Api, clock: VirtualClock, sandboxes: list[FakeSandbox], emulator: Emulator
) -> None:
    emulator.set_quota(1)
    session_id = api.create(Timeout="60")
    api.tool(session_id, "shell", {"command": "true"})  # a sandbox to kill
    clock.advance(59.9)
    assert _listed(api) == [session_id]
    clock.advance(0.1)
    assert _listed(api) == []
    assert sandboxes[0].closed
    api.error("GetSession", 400, "InvalidMcpSession.NotFound", SessionId=session_id)
    detail = api.ok("GetSessionDetail", SessionId=session_id)["Data"]
    assert (detail["Status"], detail["IsDeleted"], detail["EndReason"]) == (
        "FINISH", True, "IdleTimeout")
    assert emulator.live_sessions() == []
    api.create(Timeout="60")  # the released session no longer holds the quota


@pytest.mark.parametrize(
    ("action", "form"),
    [
        ("GetSession", {}),
        ("GetSessionDetail", {}),
        ("GetLabel", {}),
        ("SetLabel", {"Labels": '{"alive-until": "1"}'}),
        ("RefreshSessionIdleTime", {}),  # the official SDK's `session.keep_alive()`
        ("CallMcpTool", {"Name": "shell", "Args": '{"command": "true"}'}),
        ("PauseSessionAsync", {}),
    ],
)
def test_any_call_naming_the_session_restarts_its_idle_time(
    api: Api, clock: VirtualClock, action: str, form: dict[str, str]
) -> None:
    session_id = api.create(Timeout="60")
    clock.advance(50)
    api.ok(action, SessionId=session_id, **form)
    clock.advance(59)
    assert _listed(api) == [session_id]
    clock.advance(1)
    assert _listed(api) == []


def test_listing_and_other_sessions_calls_are_not_activity(api: Api, clock: VirtualClock) -> None:
    api.create(Timeout="60")  # only listed, while its neighbour is used
    busy = api.create(Timeout="60")
    for _ in range(3):
        clock.advance(20)
        api.ok("GetSession", SessionId=busy)
        api.ok("ListSession")
    assert _listed(api) == [busy]


def test_sessions_without_a_timeout_or_released_by_hand_only_stay(
    api: Api, clock: VirtualClock
) -> None:
    plain = api.create()
    manual = api.create(ManualRelease="True")
    clock.advance(30 * 86400)
    assert _listed(api) == [plain, manual]


def test_the_lifecycle_policy_counts_minutes_and_ends_at_the_max_runtime(
    api: Api, clock: VirtualClock
) -> None:
    # LifecyclePolicy(idle_release_timeout=5, max_runtime=30): the SDK sends both, in minutes.
    session_id = api.create(Timeout="5", MaxRuntime="30")
    clock.advance(299)
    assert _listed(api) == [session_id]
    for _ in range(6):  # active all along: only the max runtime ends it
        api.ok("GetSession", SessionId=session_id)
        clock.advance(250)
    assert _listed(api) == [session_id]
    clock.advance(1)
    assert _listed(api) == []
    detail = api.ok("GetSessionDetail", SessionId=session_id)["Data"]
    assert detail["EndReason"] == "MaxRuntime"


def test_a_paused_session_is_released_when_idle_too(api: Api, clock: VirtualClock) -> None:
    session_id = api.create(Timeout="60")
    api.ok("PauseSessionAsync", SessionId=session_id)
    assert api.status(session_id) == "PAUSING"
    clock.advance(60)
    assert _listed(api) == []


def test_a_session_is_not_released_while_a_call_on_it_runs(
    clock: VirtualClock, tmp_path: Path
) -> None:
    seen: list[int] = []

    class SlowSandbox(FakeSandbox):
        def run(self, command: str, **kwargs: Any) -> FakeResult:
            clock.advance(120)  # a command twice as long as the idle timeout
            emulator.release_expired()
            seen.append(len(emulator.live_sessions()))
            return FakeResult(stdout="done")

    emulator = Emulator(clock=clock, root=tmp_path, sandbox_factory=SlowSandbox)
    with httpx.Client(transport=EmulatorTransport(emulator), base_url="http://emulator") as client:
        api = Api(client)
        session_id = api.create(Timeout="60")
        payload, is_error = api.tool(session_id, "shell", {"command": "slow"})
        assert payload["stdout"] == "done" and not is_error
        assert seen == [1]
        clock.advance(59)  # idle from the command's end, not its start
        assert _listed(api) == [session_id]
        clock.advance(1)
        assert _listed(api) == []
    emulator.close()


@pytest.mark.parametrize("value", ["soon", "0", "-5", "1.5"])
def test_a_bad_timeout_is_refused(api: Api, value: str) -> None:
    body = api.error("CreateMcpSession", 400, "InvalidParameter", Timeout=value)
    assert "Timeout" in body["Message"]
    assert _listed(api) == []


def test_refreshing_an_unknown_session_is_not_found(api: Api) -> None:
    api.error("RefreshSessionIdleTime", 400, "InvalidMcpSession.NotFound", SessionId="s-none")


def _sweepers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("agentbay-emulator-expiry")]


def test_the_server_releases_idle_sessions_with_no_request_arriving(
    sandboxes: list[FakeSandbox], tmp_path: Path
) -> None:
    def factory(root: Path, name: str, isolation: str) -> FakeSandbox:
        sandboxes.append(FakeSandbox(root, name, isolation))
        return sandboxes[-1]

    emulator = Emulator(root=tmp_path, sandbox_factory=factory)  # real time
    before = len(_sweepers())
    with EmulatorServer(emulator) as server, httpx.Client(base_url=server.url) as client:
        assert len(_sweepers()) == before + 1
        api = Api(client)
        session_id = api.create(Timeout="1")
        api.tool(session_id, "shell", {"command": "true"})
        created = time.monotonic()
        while emulator.live_sessions() and time.monotonic() - created < 10:
            time.sleep(0.05)
        took = time.monotonic() - created
        assert emulator.live_sessions() == [] and sandboxes[0].closed
        assert 1.0 <= took < 3.0, took
    assert len(_sweepers()) == before  # the sweep stops with the server
