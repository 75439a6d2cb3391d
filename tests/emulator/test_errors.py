"""Errors in the service's format: auth, tenancy, bad input, quotas, faults, throttling, latency."""

from __future__ import annotations

import httpx
import pytest

from pytest_agentbay.clock import VirtualClock
from pytest_agentbay.emulator import Emulator, EmulatorTransport
from pytest_agentbay.emulator.actions import ACTIONS

from .conftest import OTHER_KEY, Api, FakeSandbox


def test_missing_or_malformed_key_is_not_login(api: Api) -> None:
    body = api.error("ListSession", 400, "NOT_LOGIN", key=None)
    assert body["HostId"]
    assert body["Message"] == "You are not logged in or your login token has expired"
    api.error("ListSession", 400, "NOT_LOGIN", key="")
    response = api.post("ListSession", key=None, Authorization="Basic abc")
    assert response.json()["Code"] == "NOT_LOGIN"


def test_configured_keys_refuse_others_without_echoing_them() -> None:
    emu = Emulator(api_keys=["akm-good"], sandbox_factory=FakeSandbox)
    with httpx.Client(transport=EmulatorTransport(emu), base_url="http://e") as client:
        api = Api(client)
        body = api.error("CreateMcpSession", 400, "NOT_LOGIN", key="akm-secret-wrong")
        assert "akm-secret-wrong" not in api.post("ListSession", key="akm-secret-wrong").text
        assert "akm-secret-wrong" not in str(body)
        api.create(key="akm-good")


def test_sessions_of_one_key_are_invisible_to_another(api: Api) -> None:
    mine = api.create(Labels='{"owner": "me"}')
    assert api.ok("ListSession", key=OTHER_KEY, Labels="{}")["TotalCount"] == 0
    for action in ("GetSession", "GetSessionDetail", "DeleteSessionAsync", "GetLabel"):
        api.error(action, 400, "InvalidMcpSession.NotFound", key=OTHER_KEY, SessionId=mine)
    api.error("CallMcpTool", 400, "InvalidMcpSession.NotFound", key=OTHER_KEY, SessionId=mine,
              Name="shell", Args='{"command": "true"}')
    assert api.status(mine) == "RUNNING"


@pytest.mark.parametrize(
    ("action", "form", "status", "code"),
    [
        (None, {}, 400, "MissingParameter"),
        ("", {}, 400, "MissingParameter"),
        ("NoSuchAction", {}, 404, "InvalidAction.NotFound"),
        ("GetSession", {}, 400, "MissingParameter"),
        ("GetSession", {"SessionId": "  "}, 400, "MissingParameter"),
        ("CallMcpTool", {"Name": "shell"}, 400, "MissingParameter"),
        ("CreateMcpSession", {"Labels": "{not json"}, 400, "InvalidParameter"),
        ("CreateMcpSession", {"Labels": "[1, 2]"}, 400, "InvalidParameter"),
        ("CreateMcpSession", {"Labels": '{"a": 1}'}, 400, "InvalidParameter"),
        ("CreateMcpSession", {"PersistenceDataList": '{"a": 1}'}, 400, "InvalidParameter"),
        ("ListSession", {"Labels": "{"}, 400, "InvalidParameter"),
        ("ListSession", {"MaxResults": "ten"}, 400, "InvalidParameter"),
        ("ListSession", {"MaxResults": "0"}, 400, "InvalidParameter"),
        ("ListSession", {"Status": "SLEEPING"}, 400, "InvalidParameter"),
        ("SetLabel", {"SessionId": "SID"}, 400, "MissingParameter"),
    ],
)
def test_bad_input_gets_an_error_envelope(api: Api, action: str | None, form: dict[str, str],
                                          status: int, code: str) -> None:
    session_id = api.create()
    form = {k: session_id if v == "SID" else v for k, v in form.items()}
    api.error(action, status, code, **form)


@pytest.mark.parametrize("args", ["{bad json", "[1]", '"text"', "[" * 100_000])
def test_invalid_tool_args_are_invalid_parameter(api: Api, args: str) -> None:
    session_id = api.create()
    body = api.error("CallMcpTool", 400, "InvalidParameter", SessionId=session_id, Name="shell",
                     Args=args)
    assert "Args" in body["Message"]


@pytest.mark.parametrize(
    "args",
    [{}, {"command": ""}, {"command": 1}, {"command": "x", "timeout_ms": "5"},
     {"command": "x", "timeout_ms": 0}, {"command": "x", "envs": {"A": 1}},
     {"command": "x", "envs": ["A"]}, {"command": "x", "cwd": 3}],
)
def test_bad_shell_arguments_are_tool_errors(api: Api, args: dict[str, object]) -> None:
    session_id = api.create()
    text, is_error = api.tool(session_id, "shell", args)
    assert is_error and "Invalid argument" in text


@pytest.mark.parametrize(
    "body",
    [b"not a form", b"a=1&b", b"=x", b"Action=%ff", b"\xff\xfe"],
)
def test_malformed_bodies_get_an_error_envelope(api: Api, body: bytes) -> None:
    response = api.client.post("/", params={"Action": "ListSession"}, content=body,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    assert response.json()["Code"] == "InvalidParameter" and response.json()["RequestId"]


def test_oversized_body_is_refused(api: Api) -> None:
    big = "x" * (1 << 20)
    response = api.post("CreateMcpSession", Labels=big)
    assert response.status_code == 413 and response.json()["Code"] == "RequestEntityTooLarge"
    assert api.create()  # and the emulator still works


def test_an_internal_bug_costs_one_request(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    session_id = api.create()

    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setitem(ACTIONS, "GetLabel", broken)
    body = api.error("GetLabel", 500, "InternalError", SessionId=session_id)
    assert "Traceback" not in str(body) and "boom" not in str(body)
    assert api.status(session_id) == "RUNNING"


def test_quota_per_key(emulator: Emulator, api: Api) -> None:
    emulator.set_quota(2)
    emulator.set_quota(None, api_key=OTHER_KEY)
    first = api.create()
    api.create()
    body = api.error("CreateMcpSession", 400, "QuotaExceeded.McpSession")
    assert "2" in body["Message"]
    for _ in range(3):
        api.create(key=OTHER_KEY)  # no limit for this key
    api.ok("DeleteSessionAsync", SessionId=first)
    api.create()  # a deleting session no longer counts


def test_fault_for_the_first_n_calls(emulator: Emulator, api: Api) -> None:
    emulator.inject_fault("CreateMcpSession", code="ServiceUnavailable", message="try later",
                          http_status=503, times=2)
    for _ in range(2):
        body = api.error("CreateMcpSession", 503, "ServiceUnavailable")
        assert body["Message"] == "try later"
    api.create()
    assert emulator.state()["knobs"]["faults"] == []


def test_fault_on_every_action_and_by_tool_name(emulator: Emulator, api: Api) -> None:
    session_id = api.create()
    emulator.inject_fault("shell", code="Tool.Broken", times=1)
    api.error("CallMcpTool", 400, "Tool.Broken", SessionId=session_id, Name="shell",
              Args='{"command": "true"}')
    assert api.tool(session_id, "get_metrics")[1] is False
    emulator.inject_fault(code="Everything.Broken")
    api.error("GetSession", 400, "Everything.Broken", SessionId=session_id)
    api.error("ListSession", 400, "Everything.Broken")
    emulator.reset()
    assert api.status(session_id) == "RUNNING"


def test_fault_rate_is_deterministic_when_seeded(emulator: Emulator, api: Api) -> None:
    emulator.inject_fault("ListSession", code="Flaky", rate=0.5)

    def outcomes() -> list[int]:
        emulator.reseed(99)
        return [api.post("ListSession").status_code for _ in range(40)]

    first = outcomes()
    assert first == outcomes()
    assert 5 < first.count(400) < 35 and first.count(200) > 5


def test_throttling_has_the_retry_after_header(emulator: Emulator, api: Api) -> None:
    emulator.throttle("GetSession", times=1, retry_after_ms=1500)
    session_id = api.create()
    response = api.post("GetSession", SessionId=session_id)
    assert response.status_code == 400 and response.json()["Code"] == "Throttling.User"
    assert response.headers["x-acs-retry-after"] == "1500"
    assert api.status(session_id) == "RUNNING"


def test_fault_arguments_are_checked(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="times or rate"):
        emulator.inject_fault(code="X", times=1, rate=0.5)
    with pytest.raises(ValueError, match="http_status"):
        emulator.inject_fault(code="X", http_status=200)
    with pytest.raises(ValueError, match="rate"):
        emulator.inject_fault(code="X", rate=1.5)


def test_latency_sleeps_on_the_emulator_clock(emulator: Emulator, clock: VirtualClock,
                                              api: Api) -> None:
    emulator.set_latency("CreateMcpSession", 3)
    emulator.set_latency("shell", 0.5)
    session_id = api.create()
    assert clock.slept == 3
    api.tool(session_id, "shell", {"command": "true"})
    api.tool(session_id, "shell", {"command": "true"})
    assert clock.slept == 4
    api.status(session_id)
    assert clock.slept == 4
