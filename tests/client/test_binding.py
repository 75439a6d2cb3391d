"""Binding sessions: `client.session(id or data)` sends nothing; `session.data` crosses clients."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_agentbay import AgentBay, AsyncAgentBay, Config, SessionData, SessionResult

from .conftest import ENDPOINT, KEY, FakeService, envelope, resolve

CREATED = envelope(
    {"SessionId": "session-abc", "ResourceUrl": "https://r/?authcode=x", "ResourceId": "res-1"}
)


@pytest.mark.asyncio
async def test_binding_an_id_sends_no_request(client: Any, service: FakeService) -> None:
    session = client.session("session-abc")
    assert session.session_id == "session-abc" and session.data == SessionData("session-abc")
    assert service.seen == []
    service.on("GetLabel", envelope({"Labels": '{"a": "b"}'}))
    assert (await resolve(session.get_labels())).data == {"a": "b"}  # bound to this client
    assert service.last("GetLabel").form["SessionId"] == "session-abc"


@pytest.mark.asyncio
async def test_created_session_data_binds_to_the_other_kind_of_client(
    client: Any, service: FakeService
) -> None:
    service.on("CreateMcpSession", CREATED)
    result = await resolve(client.create())
    assert isinstance(result, SessionResult) and result.success
    created = result.session
    assert created.data.resource_id == "res-1" and "authcode" not in repr(created.data)
    other_kind = AsyncAgentBay if isinstance(client, AgentBay) else AgentBay
    other = other_kind(KEY, Config(ENDPOINT)).session(created.data)
    assert other.data == created.data and other.resource_url == created.resource_url
    assert type(other) is type(created) and other._client is not created._client


@pytest.mark.asyncio
async def test_a_failed_create_has_no_session_and_keeps_the_service_fields(
    client: Any, service: FakeService
) -> None:
    service.on("CreateMcpSession", envelope({"Success": False, "ErrMsg": "no capacity"}))
    result = await resolve(client.create())
    assert not result.success and result.session is None
    assert result.request_id == "REQ-1" and "no capacity" in result.error_message


@pytest.mark.parametrize("bad", ["", "  ", None, 7])
def test_binding_a_blank_or_non_string_id_says_what_is_wrong(bad: Any) -> None:
    client = AgentBay(KEY, Config(ENDPOINT))
    with pytest.raises(ValueError, match="session_id is required"):
        client.session(bad)
    with pytest.raises(ValueError, match="session_id is required"):
        client.session(SessionData(bad))
