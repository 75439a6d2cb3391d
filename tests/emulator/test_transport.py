"""The in-process transport: sync and async clients, the control endpoint, who closes what."""

from __future__ import annotations

import httpx
import pytest

from pytest_agentbay.emulator import Emulator, EmulatorTransport

from .conftest import KEY, QUERY, Api, FakeSandbox


def test_control_endpoint_works_in_process_too(emulator: Emulator, api: Api) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    reply = api.client.post("/_emulator/latency", headers=headers,
                            json={"action": "GetLabel", "seconds": 2})
    assert reply.status_code == 200 and reply.json()["state"]["knobs"]["latency"] == {
        "GetLabel": 2.0}
    assert api.client.get("/_emulator/state").status_code == 401


@pytest.mark.asyncio
async def test_async_client_sees_the_same_state(emulator: Emulator, api: Api) -> None:
    session_id = api.create(Labels='{"shared": "yes"}')
    transport = EmulatorTransport(emulator)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        reply = await client.post("/", params={**QUERY, "Action": "ListSession"},
                                  data={"Authorization": f"Bearer {KEY}",
                                        "Labels": '{"shared": "yes"}'})
    assert [item["SessionId"] for item in reply.json()["Data"]] == [session_id]
    assert emulator.live_sessions(), "closing a client leaves a given emulator alone"


def test_a_transport_closes_the_emulator_it_made(monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[bool] = []
    monkeypatch.setattr(Emulator, "close", lambda self: closed.append(True))
    with httpx.Client(transport=EmulatorTransport(Emulator(sandbox_factory=FakeSandbox))):
        pass
    assert closed == []
    transport = EmulatorTransport()
    with httpx.Client(transport=transport, base_url="http://emulator") as client:
        assert Api(client).create()
    assert closed == [True]
