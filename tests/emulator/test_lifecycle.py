"""Session lifecycle: transitional statuses on the next poll, settling on the emulator clock."""

from __future__ import annotations

from pytest_agentbay.clock import VirtualClock
from pytest_agentbay.emulator import Emulator

from .conftest import Api, FakeSandbox


def test_pause_is_visible_at_once_then_settles_on_a_later_poll(api: Api) -> None:
    session_id = api.create()
    api.ok("PauseSessionAsync", SessionId=session_id)
    assert api.status(session_id) == "PAUSING"
    assert api.status(session_id) == "PAUSED"
    api.ok("ResumeSessionAsync", SessionId=session_id)
    assert api.status(session_id) == "RESUMING"
    assert api.status(session_id) == "RUNNING"


def test_settle_time_runs_on_the_emulator_clock(
    emulator: Emulator, clock: VirtualClock, api: Api
) -> None:
    emulator.set_timing(settle_seconds=10)
    session_id = api.create()
    api.ok("PauseSessionAsync", SessionId=session_id)
    for _ in range(3):
        assert api.status(session_id) == "PAUSING"
    clock.advance(9.9)
    assert api.status(session_id) == "PAUSING"
    clock.advance(0.1)
    assert api.status(session_id) == "PAUSED"


def test_repeat_pause_and_resume_are_idempotent(api: Api) -> None:
    session_id = api.create()
    api.ok("ResumeSessionAsync", SessionId=session_id)
    assert api.status(session_id) == "RUNNING"
    api.ok("PauseSessionAsync", SessionId=session_id)
    api.ok("PauseSessionAsync", SessionId=session_id)
    api.status(session_id)
    assert api.status(session_id) == "PAUSED"
    api.ok("PauseSessionAsync", SessionId=session_id)
    assert api.status(session_id) == "PAUSED"


def test_tools_and_delete_refused_while_paused(
    emulator: Emulator, clock: VirtualClock, api: Api
) -> None:
    session_id = api.create()
    api.ok("PauseSessionAsync", SessionId=session_id)
    body = api.error("CallMcpTool", 400, "InvalidMcpSession.Paused", SessionId=session_id,
                     Name="shell", Args='{"command": "true"}')
    assert session_id in body["Message"] and "resume" in body["Message"]
    api.error("DeleteSessionAsync", 400, "InvalidMcpSession.Paused", SessionId=session_id)
    emulator.set_timing(settle_seconds=5)
    api.ok("ResumeSessionAsync", SessionId=session_id)
    api.error("CallMcpTool", 400, "InvalidMcpSession.StatusNotSupported", SessionId=session_id,
              Name="shell", Args='{"command": "true"}')  # RESUMING: not yet
    clock.advance(5)
    assert api.tool(session_id, "shell", {"command": "true"})[1] is False


def test_a_pause_without_polls_has_settled_by_the_next_action(api: Api) -> None:
    session_id = api.create()
    api.ok("PauseSessionAsync", SessionId=session_id)
    api.ok("ResumeSessionAsync", SessionId=session_id)  # PAUSING settled to PAUSED first
    assert api.status(session_id) == "RESUMING"


def test_with_no_knob_a_delete_is_finished_at_the_first_status_read(
    api: Api, sandboxes: list[FakeSandbox]
) -> None:
    session_id = api.create()
    api.tool(session_id, "shell", {"command": "true"})
    api.ok("DeleteSessionAsync", SessionId=session_id)
    assert sandboxes[0].closed, "deleting kills the session's commands and files at once"
    detail = api.post("GetSessionDetail", query={"SessionId": session_id}).json()["Data"]
    assert (detail["Status"], detail["IsDeleted"]) == ("FINISH", True)


def test_with_a_delete_latency_delete_goes_deleting_then_finish_then_gone(
    emulator: Emulator, api: Api, sandboxes: list[FakeSandbox]
) -> None:
    emulator.set_latency("DeleteSessionAsync", 0.001)  # pollers see the transition again
    session_id = api.create(Labels='{"k": "v"}')
    api.tool(session_id, "shell", {"command": "true"})
    api.ok("DeleteSessionAsync", SessionId=session_id)
    assert sandboxes[0].closed, "deleting kills the session's commands and files at once"
    detail = api.post("GetSessionDetail", query={"SessionId": session_id}).json()["Data"]
    assert detail["Status"] == "DELETING"
    detail = api.post("GetSessionDetail", query={"SessionId": session_id}).json()["Data"]
    assert detail["Status"] == "FINISH"
    assert api.ok("ListSession", Labels='{"k": "v"}')["Data"] == []
    for action in ("GetSession", "GetMcpResource", "DeleteSessionAsync", "PauseSessionAsync",
                   "ResumeSessionAsync", "GetLabel", "GetLink"):
        api.error(action, 400, "InvalidMcpSession.NotFound", SessionId=session_id)
    again = api.post("GetSessionDetail", query={"SessionId": session_id}).json()["Data"]
    assert again["Status"] == "FINISH"


def test_detail_of_a_never_known_id_is_not_found(api: Api) -> None:
    body = api.error("GetSessionDetail", 400, "InvalidMcpSession.NotFound",
                     SessionId="session-00000000000000000")
    assert body["Message"] == "Resource [McpSession] is not found."


def test_live_sessions_and_close(emulator: Emulator, api: Api,
                                 sandboxes: list[FakeSandbox]) -> None:
    a = api.create(Labels='{"x": "1"}')
    b = api.create()
    api.tool(a, "shell", {"command": "true"})
    emulator.set_timing(settle_seconds=1)
    api.ok("DeleteSessionAsync", SessionId=b)
    assert api.status(b) == "DELETING"
    assert [s.status for s in emulator.live_sessions() if s.session_id == b] == ["DELETING"]
    emulator.set_timing(settle_seconds=0)
    api.error("GetSession", 400, "InvalidMcpSession.NotFound", SessionId=b)  # FINISH now
    live = emulator.live_sessions()
    assert [(s.session_id, s.status, dict(s.labels)) for s in live] == [(a, "RUNNING", {"x": "1"})]
    emulator.close()
    assert emulator.live_sessions() == [] and all(s.closed for s in sandboxes)
    api.error("GetSession", 400, "InvalidMcpSession.NotFound", SessionId=a)


def test_sandbox_is_made_on_first_command_only(emulator: Emulator, api: Api,
                                               sandboxes: list[FakeSandbox]) -> None:
    session_id = api.create()
    assert sandboxes == []
    api.tool(session_id, "shell", {"command": "one"})
    api.tool(session_id, "shell", {"command": "two"})
    assert len(sandboxes) == 1 and sandboxes[0].name == session_id
    assert [c["command"] for c in sandboxes[0].commands] == ["one", "two"]


def test_reset_sessions_true_ends_everything() -> None:
    emu = Emulator(sandbox_factory=FakeSandbox)
    emu.handle({"Action": "CreateMcpSession", "Authorization": "Bearer k"})
    emu.set_quota(0)
    emu.reset(sessions=True)
    assert emu.live_sessions() == []
    reply = emu.handle({"Action": "CreateMcpSession", "Authorization": "Bearer k"})
    assert reply.status == 200, "quota went back to its default"
