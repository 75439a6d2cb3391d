"""Every operation, sync and async: results, both error channels, polling on the virtual clock."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pytest_agentbay import VirtualClock

from .conftest import FakeService, envelope, error, resolve, tool

pytestmark = pytest.mark.asyncio
CREATED = envelope({"SessionId": "session-abc", "ResourceUrl": "https://r/?authcode=x"})
NOT_FOUND = error("InvalidMcpSession.NotFound", "Resource [McpSession] is not found.")


async def session_of(client: Any, service: FakeService) -> Any:
    service.on("CreateMcpSession", CREATED)
    return (await resolve(client.create())).session


async def test_create_failure_channel_a(client: Any, service: FakeService) -> None:
    service.on("CreateMcpSession", error("InvalidImage.NotFound", "Image nope is not found"))
    result = await resolve(client.create())
    assert not result.success and result.session is None
    assert result.code == "InvalidImage.NotFound" and result.request_id == "REQ-ERR"
    assert "Image nope is not found" in result.error_message


async def test_create_failure_channel_b(client: Any, service: FakeService) -> None:
    service.on(
        "CreateMcpSession",
        {
            "RequestId": "R9",
            "Success": False,
            "Code": "QuotaExceeded",
            "Message": "too many sessions",
        },
    )
    result = await resolve(client.create())
    assert not result.success and result.code == "QuotaExceeded" and result.request_id == "R9"


async def test_create_without_session_id(client: Any, service: FakeService) -> None:
    service.on("CreateMcpSession", envelope({}))
    result = await resolve(client.create())
    assert not result.success and "SessionId not found" in result.error_message


async def test_get_and_get_session(client: Any, service: FakeService) -> None:
    service.on("GetSession", envelope({"SessionId": "s-1", "Status": "RUNNING", "Token": "t0k"}))
    raw = await resolve(client.get_session("s-1"))
    assert raw.success and raw.data.status == "RUNNING" and raw.code == "ok"
    assert "t0k" not in repr(raw)
    got = await resolve(client.get("s-1"))
    assert got.success and got.session.session_id == "s-1"


async def test_get_not_found(client: Any, service: FakeService) -> None:
    service.on("GetSession", NOT_FOUND)
    result = await resolve(client.get("s-gone"))
    assert not result.success and result.code == "InvalidMcpSession.NotFound"


async def test_list_page_beyond_last(client: Any, service: FakeService) -> None:
    service.on("ListSession", envelope([{"SessionId": "s1"}], NextToken=""))
    result = await resolve(client.list(page=3))
    assert not result.success and "Cannot reach page 3" in result.error_message


async def test_list_rows(client: Any, service: FakeService) -> None:
    rows = [{"SessionId": "s1", "SessionStatus": "PAUSED", "ImageId": "code_latest"}]
    service.on("ListSession", envelope(rows, NextToken="", MaxResults=10, TotalCount=1))
    result = await resolve(client.list())
    assert result.session_ids == ["s1"] and result.sessions[0].status == "PAUSED"
    assert result.sessions[0].image_id == "code_latest" and result.max_results == 10


async def test_delete_polls_until_finish(
    client: Any, service: FakeService, clock: VirtualClock
) -> None:
    session = await session_of(client, service)
    service.on("DeleteSessionAsync", envelope(request_id="DEL"))
    service.on(
        "GetSessionDetail",
        envelope({"Status": "DELETING"}),
        envelope({"Status": "DELETING"}),
        envelope({"Status": "FINISH"}),
    )
    result = await resolve(client.delete(session))
    assert result.success and result.request_id == "DEL"
    assert service.actions().count("GetSessionDetail") == 3
    assert clock.slept == pytest.approx(0.001 + 0.05)  # at once, at 1 ms, then backing off


async def test_delete_ends_on_not_found(client: Any, service: FakeService) -> None:
    session = await session_of(client, service)
    service.on("DeleteSessionAsync", envelope())
    service.on("GetSessionDetail", NOT_FOUND)
    assert (await resolve(session.delete())).success


async def test_delete_times_out(client: Any, service: FakeService, clock: VirtualClock) -> None:
    session = await session_of(client, service)
    service.on("DeleteSessionAsync", envelope())
    service.on("GetSessionDetail", envelope({"Status": "DELETING"}))
    result = await resolve(session.delete())
    assert not result.success and "still not deleted" in result.error_message
    assert 300 <= clock.slept < 301


async def test_pause_polls_to_paused(
    client: Any, service: FakeService, clock: VirtualClock
) -> None:
    session = await session_of(client, service)
    service.on("PauseSessionAsync", envelope(request_id="P1"))
    service.on(
        "GetSession", envelope({"Status": "PAUSING"}), NOT_FOUND, envelope({"Status": "PAUSED"})
    )
    result = await resolve(client.pause(session, poll_interval=0.5))
    assert result.success and result.status == "PAUSED" and result.request_id == "P1"
    assert clock.slept == 1.0  # a failed poll is not a verdict


async def test_pause_error_state(client: Any, service: FakeService) -> None:
    session = await session_of(client, service)
    service.on("PauseSessionAsync", envelope())
    service.on("GetSession", envelope({"Status": "RUNNING"}), envelope({"Status": "ERROR"}))
    result = await resolve(session.pause())
    assert not result.success and "error state: ERROR" in result.error_message
    assert result.status == "ERROR"


async def test_resume_timeout(client: Any, service: FakeService, clock: VirtualClock) -> None:
    session = await session_of(client, service)
    service.on("ResumeSessionAsync", envelope())
    service.on("GetSession", envelope({"Status": "RESUMING"}))
    result = await resolve(client.resume(session, timeout=10, poll_interval=2))
    assert not result.success and "timed out after 10" in result.error_message
    assert service.actions().count("GetSession") == 5 and clock.slept == 10.0


async def test_fire_and_return(client: Any, service: FakeService) -> None:
    session = await session_of(client, service)
    service.on("PauseSessionAsync", envelope())
    service.on("ResumeSessionAsync", envelope())
    paused = await resolve(client.pause_async(session))
    resumed = await resolve(client.resume_async(session))
    assert (paused.status, resumed.status) == ("PAUSING", "RESUMING")
    assert "GetSession" not in service.actions()


async def test_pause_refused(client: Any, service: FakeService) -> None:
    session = await session_of(client, service)
    service.on(
        "PauseSessionAsync",
        {"RequestId": "R", "Success": False, "Code": "Busy", "Message": "try later"},
    )
    result = await resolve(session.pause_async())
    assert (
        not result.success and result.code == "Busy" and "[Busy] try later" in result.error_message
    )


async def test_info_and_labels(client: Any, service: FakeService) -> None:
    session = await session_of(client, service)
    service.on(
        "GetMcpResource",
        envelope(
            {
                "SessionId": "session-abc",
                "ResourceUrl": "https://u",
                "DesktopInfo": {"AppId": "a", "AuthCode": "SECRET", "ResourceType": "AIAgent"},
            }
        ),
    )
    service.on("GetLabel", envelope({"Labels": '{"a": "b"}'}))
    service.on("SetLabel", envelope())
    info = await resolve(session.info())
    assert info.data.resource_type == "AIAgent" and "SECRET" not in repr(info)
    assert (await resolve(session.get_labels())).data == {"a": "b"}
    assert (await resolve(session.set_labels({"x": "y"}))).success


async def test_keep_alive(client: Any, service: FakeService) -> None:
    session = await session_of(client, service)
    service.on("RefreshSessionIdleTime", envelope(), NOT_FOUND)
    kept = await resolve(session.keep_alive())
    assert kept.success and kept.request_id
    assert service.last("RefreshSessionIdleTime").form["SessionId"] == "session-abc"
    gone = await resolve(session.keep_alive())
    assert not gone.success and gone.code == "InvalidMcpSession.NotFound"


@pytest.mark.parametrize(
    ("payload", "is_error", "expected"),
    [
        ({"stdout": "hi\n", "stderr": "", "exit_code": 0}, False, (True, 0, "hi\n", "")),
        (
            {"errorCode": 2, "stdout": "", "stderr": "no such file", "traceId": "t"},
            True,
            (False, 2, "no such file", "no such file"),
        ),
        (
            {"exit_code": 3, "stdout": "x", "stderr": "", "traceId": "t"},
            False,
            (False, 3, "x", ""),  # a nonzero exit without isError: no message (0.13.1)
        ),
        ({"errorCode": 124, "stdout": "", "stderr": ""}, True, (False, 124, "", "")),
        ("raw text", False, (True, 0, "raw text", "")),
        ("command not allowed", True, (False, 1, "", "command not allowed")),
    ],
)
async def test_command_payload_shapes(
    client: Any, service: FakeService, payload: Any, is_error: bool, expected: tuple[Any, ...]
) -> None:
    session = await session_of(client, service)
    for as_string in (False, True):  # Data as an object and as a JSON string
        service.replies["CallMcpTool"] = [tool(payload, is_error, as_string)]
        result = await resolve(session.command.execute_command("cmd"))
        assert (result.success, result.exit_code, result.output) == expected[:3]
        assert expected[3] in result.error_message


async def test_command_timeout_shape_has_empty_output(client: Any, service: FakeService) -> None:
    session = await session_of(client, service)
    service.on(
        "CallMcpTool",
        tool({"errorCode": 124, "stdout": "", "stderr": "", "traceId": "t"}, is_error=True),
    )
    result = await resolve(session.command.execute_command("sleep 5", timeout_ms=1000))
    assert not result.success and result.output == "" and result.request_id and result.error_message


async def test_empty_tool_data(client: Any, service: FakeService) -> None:
    session = await session_of(client, service)
    service.on("CallMcpTool", envelope())
    result = await resolve(session.command.execute_command("ls"))
    assert not result.success and "Empty response data" in result.error_message


async def test_execute_task_and_wait(
    client: Any, service: FakeService, clock: VirtualClock
) -> None:
    session = await session_of(client, service)
    service.on(
        "CallMcpTool",
        tool({"task_id": "t"}),
        tool({"status": "running"}),
        tool({"status": "running"}),
        tool({"status": "finished", "product": "done"}),
    )
    result = await resolve(session.agent.computer.execute_task_and_wait("do it", max_try_times=5))
    assert result.success and result.task_status == "finished" and result.task_result == "done"
    assert clock.slept == 6.0


async def test_execute_task_and_wait_failed(client: Any, service: FakeService) -> None:
    session = await session_of(client, service)
    service.on("CallMcpTool", tool({"task_id": "t"}), tool({"status": "failed"}))
    result = await resolve(session.agent.browser.execute_task_and_wait("x", max_try_times=3))
    assert not result.success and result.task_status == "failed"


async def test_execute_task_and_wait_times_out_and_terminates(
    client: Any, service: FakeService, clock: VirtualClock
) -> None:
    session = await session_of(client, service)
    service.on(
        "CallMcpTool",
        tool({"task_id": "t"}),
        tool({"status": "running"}),
        tool({"status": "running"}),
        tool({"status": "cancelling"}),
    )
    result = await resolve(session.agent.computer.execute_task_and_wait("x", max_try_times=2))
    assert not result.success and "timeout" in result.error_message.lower()
    assert service.last("CallMcpTool").form["Name"] == "flux_terminate_task"
    assert clock.slept == 3.0


async def test_unknown_task_is_a_tool_error(client: Any, service: FakeService) -> None:
    session = await session_of(client, service)
    service.on("CallMcpTool", tool("task t-x not found", is_error=True))
    result = await resolve(session.agent.computer.get_task_status("t-x"))
    assert not result.success and "task t-x not found" in result.error_message


async def test_throttling_is_retried_with_backoff(
    client: Any, service: FakeService, clock: VirtualClock
) -> None:
    throttled = error(
        "Throttling.User",
        "Request was denied due to user flow control.",
        **{"x-acs-retry-after": "2000"},
    )
    service.on("CreateMcpSession", throttled, error("Throttling.User", "slow down"), CREATED)
    result = await resolve(client.create())
    assert result.success and service.actions().count("CreateMcpSession") == 3
    # the server's hint, then the backoff for the second try, jittered (retries of processes
    # throttled together spread out instead of arriving together again)
    assert 2.0 + 0.5 <= clock.slept <= 2.0 + 1.0


async def test_throttling_gives_up_after_attempts(client: Any, service: FakeService) -> None:
    service.on("ListSession", error("Throttling.User", "slow down"))
    result = await resolve(client.list())
    assert not result.success and result.code == "Throttling.User"
    assert service.actions().count("ListSession") == 3


async def test_connect_failure_is_retried(client: Any, service: FakeService) -> None:
    service.on("CreateMcpSession", httpx.ConnectError("refused"), CREATED)
    assert (await resolve(client.create())).success
    assert service.actions().count("CreateMcpSession") == 2


async def test_create_is_never_resent_after_it_may_have_arrived(
    client: Any, service: FakeService
) -> None:
    service.on(
        "CreateMcpSession", httpx.RemoteProtocolError("server closed the connection"), CREATED
    )
    result = await resolve(client.create())
    assert not result.success and "after the request was sent" in result.error_message
    assert "RemoteProtocolError" in result.error_message
    assert service.actions().count("CreateMcpSession") == 1


async def test_read_timeout_is_not_retried(client: Any, service: FakeService) -> None:
    service.on("ListSession", httpx.ReadTimeout("timed out"), envelope([]))
    result = await resolve(client.list())
    assert not result.success and "ReadTimeout" in result.error_message
    assert service.actions().count("ListSession") == 1


async def test_non_json_reply(client: Any, service: FakeService) -> None:
    service.on("ListSession", httpx.Response(502, text="<html>Bad Gateway</html>"))
    result = await resolve(client.list())
    assert not result.success and "not JSON" in result.error_message
    assert "Bad Gateway" in result.error_message


async def test_unexpected_envelope(client: Any, service: FakeService) -> None:
    service.on("GetSession", httpx.Response(200, json=["not", "an", "object"]))
    result = await resolve(client.get_session("s"))
    assert not result.success and "not a JSON object" in result.error_message


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.get(""), "session_id is required"),
        (lambda c: c.get_session("   "), "session_id is required"),
        (lambda c: c.list(page=0), "page must be"),
        (lambda c: c.list(labels={"a": 1}), "must be a string"),
        (lambda c: c.list(labels=["a"]), "must be a dict"),
        (lambda c: c.list(limit=-1), "limit must be"),
        (lambda c: c.pause("s", timeout=0), "timeout must be"),
    ],
)
async def test_bad_input_raises_before_any_request(
    client: Any, service: FakeService, call: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await resolve(call(client))
    assert service.seen == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"envs": {"A": 1}}, "envs must be"),
        ({"envs": "A=1"}, "envs must be"),
        ({"timeout_ms": 0}, "timeout_ms must be"),
        ({"timeout_ms": -5}, "timeout_ms must be"),
        ({"cwd": ""}, "cwd must be"),
    ],
)
async def test_bad_command_input(
    client: Any, service: FakeService, kwargs: dict[str, Any], message: str
) -> None:
    session = await session_of(client, service)
    with pytest.raises(ValueError, match=message):
        await resolve(session.command.execute_command("ls", **kwargs))
    assert service.actions() == ["CreateMcpSession"]
