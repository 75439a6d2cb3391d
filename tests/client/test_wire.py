"""What goes on the wire: exact common query, headers and form fields, per the protocol sheet."""

from __future__ import annotations

import importlib.metadata
import json
import re
from typing import Any

import pytest

import pytest_agentbay
from pytest_agentbay import AgentOptions, CreateSessionParams

from .conftest import KEY, FakeService, envelope, resolve, tool

pytestmark = pytest.mark.asyncio
CREATED = envelope({"SessionId": "session-abc", "ResourceUrl": "https://r/?resourceId=p-1"})


async def created(client: Any, service: FakeService, **params: Any) -> Any:
    service.on("CreateMcpSession", CREATED)
    result = await resolve(client.create(CreateSessionParams(**params) if params else None))
    assert result.success, result.error_message
    return result.session


async def test_common_query_and_headers(client: Any, service: FakeService) -> None:
    await created(client, service)
    seen = service.last("CreateMcpSession")
    assert list(seen.query) == ["Action", "Format", "Version", "Timestamp", "SignatureNonce"]
    assert seen.query["Format"] == "json" and seen.query["Version"] == "2025-05-06"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", seen.query["Timestamp"])
    assert re.fullmatch(r"[0-9a-f]{32}", seen.query["SignatureNonce"])
    assert seen.headers["x-acs-version"] == "2025-05-06"
    assert seen.headers["x-acs-action"] == "CreateMcpSession"
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in seen.headers  # the key travels in the form only
    assert seen.form["Authorization"] == f"Bearer {KEY}"


async def test_create_fields(client: Any, service: FakeService) -> None:
    await created(
        client, service, image_id="linux_latest", labels={"project": "demo", "env": "test"}
    )
    seen = service.last("CreateMcpSession")
    assert sorted(seen.form) == ["Authorization", "ImageId", "Labels", "LoginRegionId", "SdkStats"]
    assert seen.form["ImageId"] == "linux_latest"
    assert seen.form["Labels"] == '{"project": "demo", "env": "test"}'  # Python default separators
    assert seen.form["LoginRegionId"] == "cn-hangzhou"
    assert json.loads(seen.form["SdkStats"])["sdk_language"] == "python"
    keys = [part.split("=")[0] for part in seen.raw_body.decode().split("&")]
    assert keys == sorted(keys)  # sorted form body
    assert b"Authorization=Bearer+akm-" in seen.raw_body  # spaces as +


async def test_labels_are_ascii_escaped_json(client: Any, service: FakeService) -> None:
    await created(client, service, labels={"名": "值"})
    assert service.last("CreateMcpSession").form["Labels"] == '{"\\u540d": "\\u503c"}'


async def test_list_fields_and_next_token(client: Any, service: FakeService) -> None:
    service.on(
        "ListSession",
        envelope([{"SessionId": "s1"}], NextToken="tok-2", MaxResults=1, TotalCount=2),
        envelope(
            [{"SessionId": "s2", "SessionStatus": "RUNNING"}],
            NextToken="",
            MaxResults=1,
            TotalCount=2,
        ),
    )
    result = await resolve(client.list(labels={"project": "demo"}, page=2, limit=1))
    assert result.success and result.session_ids == ["s2"] and result.total_count == 2
    first, second = [s.form for s in service.seen]
    assert first == {
        "Authorization": f"Bearer {KEY}",
        "Labels": '{"project": "demo"}',
        "MaxResults": "1",
    }
    assert second == {**first, "NextToken": "tok-2"}


@pytest.mark.parametrize("payload", [
    {"stdout": "x" * 10, "stderr": "", "exit_code": 0, "truncated": True},
    {"errorCode": 2, "stdout": "x", "stderr": "cut", "traceId": "t", "truncated": True},
])
async def test_execute_command_says_when_the_backend_cut_the_output(
    client: Any, service: FakeService, payload: dict[str, Any]
) -> None:
    session = await created(client, service)
    service.on("CallMcpTool", tool(payload, is_error="errorCode" in payload),
               tool({"stdout": "y\n", "stderr": "", "exit_code": 0}))
    assert (await resolve(session.command.execute_command("yes"))).truncated is True
    assert (await resolve(session.command.execute_command("echo y"))).truncated is False


async def test_list_without_filter_sends_empty_labels(client: Any, service: FakeService) -> None:
    service.on("ListSession", envelope([], NextToken="", TotalCount=0))
    await resolve(client.list())
    assert service.last("ListSession").form["Labels"] == "{}"
    assert service.last("ListSession").form["MaxResults"] == "10"


async def test_execute_command_fields(client: Any, service: FakeService) -> None:
    session = await created(client, service)
    service.on("CallMcpTool", tool({"stdout": "/tmp\n", "stderr": "", "exit_code": 0}))
    await resolve(
        session.command.execute_command("pwd", timeout_ms=5000, cwd="/tmp", envs={"A": "1"})
    )
    form = service.last("CallMcpTool").form
    assert form == {
        "Args": '{"command": "pwd", "timeout_ms": 5000, "cwd": "/tmp", "envs": {"A": "1"}}',
        "Authorization": f"Bearer {KEY}",
        "AutoGenSession": "False",
        "Name": "shell",
        "Server": "",
        "SessionId": "session-abc",
    }


async def test_args_are_not_ascii_escaped(client: Any, service: FakeService) -> None:
    session = await created(client, service)
    service.on("CallMcpTool", tool({"stdout": "", "stderr": "", "exit_code": 0}))
    await resolve(session.command.execute_command("echo 你好"))
    assert "你好" in service.last("CallMcpTool").form["Args"]
    assert "%E4%BD%A0" in service.last("CallMcpTool").raw_body.decode()


@pytest.mark.parametrize(("agent", "prefix"), [("computer", "flux_"), ("browser", "browser_use_")])
async def test_agent_calls(client: Any, service: FakeService, agent: str, prefix: str) -> None:
    session = await created(client, service)
    service.on(
        "CallMcpTool",
        tool({"task_id": "t-1"}),
        tool({"task_id": "t-1", "status": "running", "action": "click", "product": ""}),
        tool({"task_id": "t-1", "status": "cancelling"}),
    )
    target = getattr(session.agent, agent)
    started = await resolve(target.execute_task("open the page"))
    status = await resolve(target.get_task_status("t-1"))
    stopped = await resolve(target.terminate_task("t-1"))
    assert (started.task_id, started.task_status) == ("t-1", "running")
    assert (status.task_status, status.task_action) == ("running", "click")
    assert stopped.task_status == "cancelling"
    names = [s.form["Name"] for s in service.seen if s.action == "CallMcpTool"]
    assert names == [prefix + "execute_task", prefix + "get_task_status", prefix + "terminate_task"]
    args = [json.loads(s.form["Args"]) for s in service.seen if s.action == "CallMcpTool"]
    assert args == [{"task": "open the page"}, {"task_id": "t-1"}, {"task_id": "t-1"}]


async def test_browser_initialize_fields(client: Any, service: FakeService) -> None:
    session = await created(client, service)
    service.on("CallMcpTool", tool("ok"))
    options = AgentOptions(use_vision=True, output_schema={"type": "object"})
    result = await resolve(session.agent.browser.initialize(options))
    assert result.success
    form = service.last("CallMcpTool").form
    assert form["Name"] == "browser_use_initialize"
    assert json.loads(form["Args"]) == {"use_vision": True, "output_schema": {"type": "object"}}


async def test_get_session_detail_puts_session_id_in_query(
    client: Any, service: FakeService
) -> None:
    session = await created(client, service)
    service.on("DeleteSessionAsync", envelope())
    service.on("GetSessionDetail", envelope({"Status": "FINISH"}))
    await resolve(session.delete())
    detail = service.last("GetSessionDetail")
    assert detail.query["SessionId"] == "session-abc"
    assert detail.form == {"Authorization": f"Bearer {KEY}"}


async def test_sync_context_puts_key_in_query(client: Any, service: FakeService) -> None:
    session = await created(client, service)
    service.on("SyncContext", envelope())
    service.on("GetContextInfo", envelope({"ContextStatus": ""}))
    service.on("DeleteSessionAsync", envelope())
    service.on("GetSessionDetail", envelope({"Status": "FINISH"}))
    assert (await resolve(session.delete(sync_context=True))).success
    sync = service.last("SyncContext")
    assert sync.query["Authorization"] == f"Bearer {KEY}"
    assert sync.form == {"SessionId": "session-abc"}
    assert service.actions()[1:] == [
        "SyncContext",
        "GetContextInfo",
        "DeleteSessionAsync",
        "GetSessionDetail",
    ]


async def test_the_installed_version_is_the_one_sent(client: Any, service: FakeService) -> None:
    await created(client, service)
    seen = service.last("CreateMcpSession")
    version = importlib.metadata.version("pytest-agentbay")
    assert pytest_agentbay.__version__ == version
    assert f"pytest-agentbay/{version} " in seen.headers["user-agent"]
    assert json.loads(seen.form["SdkStats"])["sdk_version"] == version
