"""Attacks on the local backend's knobs and HTTP server: each is refused, the server carries on."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pytest_agentbay.emulator import Emulator, EmulatorServer

from .conftest import KEY, Api, FakeSandbox

AUTH = {"Authorization": f"Bearer {KEY}"}
BAD_SECONDS = ["NaN", "Infinity", "-Infinity", "1e308", "-1"]


@pytest.fixture(scope="module")
def server_once() -> Iterator[EmulatorServer]:
    emulator = Emulator(api_keys=[KEY], sandbox_factory=FakeSandbox)
    with EmulatorServer(emulator, request_timeout=1.0) as srv:
        yield srv


@pytest.fixture
def fake_server(server_once: EmulatorServer) -> Iterator[EmulatorServer]:
    """A loopback server over fake sandboxes, dropping requests not read within 1 s; its
    knobs and sessions are reset after each test."""
    yield server_once
    server_once.emulator.reset(sessions=True)


@pytest.fixture(scope="module")
def client(server_once: EmulatorServer) -> Iterator[httpx.Client]:
    """One client for the module (making one costs more than a test's calls)."""
    with httpx.Client(base_url=server_once.url, timeout=5) as http:
        yield http


def _control(client: httpx.Client, knob: str, raw_json: str) -> httpx.Response:
    # Python's json accepts NaN and Infinity, so a client really can send them.
    return client.post(f"/_emulator/{knob}", content=raw_json.encode(), headers=AUTH)


def _still_serves(client: httpx.Client) -> None:
    api = Api(client)
    session_id = api.create()
    api.ok("DeleteSessionAsync", SessionId=session_id)


@pytest.mark.parametrize("seconds", BAD_SECONDS)
def test_latency_refuses_seconds_that_are_not_a_sane_delay(fake_server: EmulatorServer,
                                                           client: httpx.Client,
                                                           seconds: str) -> None:
    reply = _control(client, "latency",
                     f'{{"action": "DeleteSessionAsync", "seconds": {seconds}}}')
    assert reply.status_code == 400, reply.text
    assert reply.json()["ok"] is False and "seconds" in reply.json()["error"]
    assert fake_server.emulator.state()["knobs"]["latency"] == {}
    _still_serves(client)


@pytest.mark.parametrize("field", ["settle_seconds", "task_seconds"])
@pytest.mark.parametrize("seconds", BAD_SECONDS)
def test_timing_refuses_seconds_that_are_not_a_sane_duration(fake_server: EmulatorServer,
                                                             client: httpx.Client,
                                                             field: str, seconds: str) -> None:
    reply = _control(client, "timing", f'{{"{field}": {seconds}}}')
    assert reply.status_code == 400, reply.text
    assert field in reply.json()["error"]
    assert fake_server.emulator.state()["knobs"][field] == 0.0
    _still_serves(client)


@pytest.mark.parametrize(("knob", "body", "needle"), [
    ("fault", {"action": "GetSesion", "code": "Boom"}, "GetSesion"),
    ("throttle", {"action": "NoSuchTool"}, "NoSuchTool"),
    ("latency", {"action": "CreateMcpSesion", "seconds": 1}, "CreateMcpSesion"),
])
def test_knobs_refuse_actions_that_do_not_exist(fake_server: EmulatorServer,
                                                client: httpx.Client, knob: str,
                                                body: dict[str, Any], needle: str) -> None:
    reply = _control(client, knob, json.dumps(body))
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert needle in error and "GetSession" in error  # names the typo and the real names
    assert fake_server.emulator.state()["knobs"]["faults"] == []


@pytest.mark.parametrize("seconds", [float("nan"), float("inf"), 1e308, -1.0])
def test_in_process_knobs_check_the_same(seconds: float) -> None:
    emulator = Emulator(sandbox_factory=FakeSandbox)
    with pytest.raises(ValueError, match="seconds"):
        emulator.set_latency("GetSession", seconds)
    with pytest.raises(ValueError, match="settle_seconds"):
        emulator.set_timing(settle_seconds=seconds)
    with pytest.raises(ValueError, match="task_seconds"):
        emulator.set_timing(task_seconds=seconds)
    with pytest.raises(ValueError, match="settle_seconds"):
        Emulator(sandbox_factory=FakeSandbox, settle_seconds=seconds)
    with pytest.raises(ValueError, match="Nope"):
        emulator.inject_fault("Nope", code="X")
    emulator.inject_fault("shell", code="X")  # a tool name is fine
    emulator.inject_fault("flux_execute_task", code="X")


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "BREW"])
def test_other_methods_get_the_json_error_shape(fake_server: EmulatorServer,
                                                client: httpx.Client, method: str) -> None:
    reply = client.request(method, "/?Action=ListSession", headers=AUTH)
    assert reply.status_code == 405
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.headers["allow"] == "GET, POST"
    if method != "HEAD":
        body = reply.json()
        assert body["Code"] == "MethodNotAllowed" and body["Success"] is False
        assert body["HttpStatusCode"] == 405 and method in body["Message"] and body["RequestId"]
    _still_serves(client)


def test_a_malformed_request_line_gets_json_too(fake_server: EmulatorServer) -> None:
    host, port = fake_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GARBAGE\r\n\r\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert b" 400 " in head.split(b"\r\n")[0] and b"application/json" in head
    assert json.loads(body)["Code"] == "InvalidParameter"


def _trickle(url: str, first: bytes, lines: list[bytes], for_seconds: float) -> float:
    """Send `first`, then one of `lines` every 0.2 s; the seconds until the server hung up
    (or `for_seconds` if it never did)."""
    host, port = url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(first)
        index = 0
        while time.monotonic() - started < for_seconds:
            try:
                sock.sendall(lines[index % len(lines)])
                sock.settimeout(0.2)
                if sock.recv(65536) == b"":
                    return time.monotonic() - started
            except TimeoutError:
                index += 1
            except OSError:  # reset: dropped as well
                return time.monotonic() - started
    return for_seconds


@pytest.mark.parametrize("attack", ["headers", "body"])
def test_a_slow_client_is_dropped_and_others_are_served(fake_server: EmulatorServer,
                                                        client: httpx.Client,
                                                        attack: str) -> None:
    if attack == "headers":
        first, lines = b"POST /?Action=ListSession HTTP/1.1\r\n", [b"X-Slow: 1\r\n"]
    else:
        first = b"POST /?Action=ListSession HTTP/1.1\r\nContent-Length: 100000\r\n\r\n"
        lines = [b"a"]
    api = Api(client)
    session_id = api.create()
    held = _trickle(fake_server.url, first, lines, for_seconds=4.0)
    assert held < 3.0, f"a slow client held its connection for {held:.1f} s"
    assert api.status(session_id) == "RUNNING"


def test_the_request_deadline_leaves_slow_answers_and_idle_connections_alone(
        fake_server: EmulatorServer, client: httpx.Client) -> None:
    api = Api(client)
    fake_server.emulator.set_latency("GetSession", 1.2)  # answering is not reading
    session_id = api.create()
    time.sleep(1.1)  # idle between requests on a kept-alive connection
    assert api.status(session_id) == "RUNNING"


def test_the_deadline_is_a_command_line_option() -> None:
    from pytest_agentbay.emulator.__main__ import parse_args

    assert parse_args([]).request_timeout == 10.0
    assert parse_args(["--request-timeout", "2.5"]).request_timeout == 2.5
    for bad in ("0", "-1", "nan", "inf"):
        with pytest.raises(SystemExit):
            parse_args(["--request-timeout", bad])


def test_other_methods_get_405_in_process_too(api: Api) -> None:
    reply = api.client.put("/?Action=ListSession", headers=AUTH)
    assert reply.status_code == 405 and reply.headers["allow"] == "GET, POST"
    assert reply.json()["Code"] == "MethodNotAllowed"
