"""The loopback server: HTTP details the SDK relies on, concurrency, control, clean stop."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from pytest_agentbay.emulator import Emulator, EmulatorServer

from .conftest import KEY, QUERY, Api, FakeSandbox


def _raw(url: str, request: bytes, *, reads: int = 1) -> list[bytes]:
    """Send raw bytes on one connection; read `reads` responses (by Content-Length)."""
    host, port = url.removeprefix("http://").split(":")
    replies = []
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        buffer = b""
        for _ in range(reads):
            while b"\r\n\r\n" not in buffer:
                buffer += sock.recv(65536)
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            while len(buffer) < length:
                buffer += sock.recv(65536)
            replies.append(head + b"\r\n\r\n" + buffer[:length])
            buffer = buffer[length:]
    return replies


def _sdk_style(url: str, action: str, body: str) -> bytes:
    """A request as the official SDK sends it, including its odd `Host: http://...` header."""
    data = body.encode()
    return (f"POST /?Action={action}&Format=json&Version=2025-05-06 HTTP/1.1\r\n"
            f"host: {url}\r\nx-acs-action: {action}\r\n"
            "content-type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(data)}\r\n\r\n").encode() + data


def test_refuses_non_loopback_hosts_unless_allowed() -> None:
    for host in ("0.0.0.0", "192.0.2.10", "example.invalid"):
        with pytest.raises(ValueError, match="loopback"):
            EmulatorServer(Emulator(sandbox_factory=FakeSandbox), host=host)
    EmulatorServer(Emulator(sandbox_factory=FakeSandbox), host="192.0.2.10", allow_remote=True)


def test_sdk_host_header_and_keep_alive(server: EmulatorServer) -> None:
    auth = "Authorization=Bearer+test"
    request = (_sdk_style(server.url, "CreateMcpSession", auth)
               + _sdk_style(server.url, "ListSession", auth + "&Labels=%7B%7D"))
    first, second = _raw(server.url, request, reads=2)
    assert first.startswith(b"HTTP/1.1 200") and second.startswith(b"HTTP/1.1 200")
    listed = json.loads(second.partition(b"\r\n\r\n")[2])
    assert listed["TotalCount"] == 1


def test_get_session_detail_with_query_session_id(server: EmulatorServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        api = Api(client)
        session_id = api.create()
        response = api.post("GetSessionDetail", query={"SessionId": session_id})
        assert response.json()["Data"]["Status"] == "RUNNING"


def test_oversized_body_is_refused_unread(server: EmulatorServer) -> None:
    head = (f"POST /?Action=CreateMcpSession HTTP/1.1\r\nHost: {server.url}\r\n"
            f"Content-Length: {50 * 1024 * 1024}\r\n\r\n").encode()
    [reply] = _raw(server.url, head)
    assert reply.startswith(b"HTTP/1.1 413")
    assert json.loads(reply.partition(b"\r\n\r\n")[2])["Code"] == "RequestEntityTooLarge"


def test_chunked_body_without_length_is_refused(server: EmulatorServer) -> None:
    request = (b"POST /?Action=ListSession HTTP/1.1\r\nHost: x\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n")
    [reply] = _raw(server.url, request)
    assert reply.startswith(b"HTTP/1.1 411")


def test_malformed_and_unknown_requests_leave_the_server_alive(server: EmulatorServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        bad = client.post("/?Action=ListSession", content=b"\xff\x00garbage")
        assert bad.status_code == 400 and bad.json()["Code"] == "InvalidParameter"
        unknown = client.post("/", params={"Action": "Nope"}, data={"Authorization": "Bearer k"})
        assert unknown.status_code == 404 and unknown.json()["Code"] == "InvalidAction.NotFound"
        assert Api(client).create()


def test_many_concurrent_requests(server: EmulatorServer) -> None:
    with httpx.Client(base_url=server.url, limits=httpx.Limits(max_connections=64)) as client:
        api = Api(client)
        session_id = api.create()

        def one(i: int) -> int:
            if i % 4 == 0:
                return api.post("CallMcpTool", SessionId=session_id, Name="shell",
                                Args='{"command": "sleep 0.2"}').status_code
            return api.post("GetSession", SessionId=session_id).status_code

        started = time.monotonic()
        with ThreadPoolExecutor(64) as pool:
            codes = list(pool.map(one, range(200)))
        assert codes == [200] * 200
        assert time.monotonic() - started < 10


def test_control_endpoint(server: EmulatorServer) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=server.url, headers=headers) as client:
        api = Api(client)
        state = client.get("/_emulator/state").json()
        assert state["ok"] and state["state"]["isolation"] == server.emulator.isolation
        reply = client.post("/_emulator/fault", json={"action": "GetSession", "code": "Boom",
                                                      "http_status": 503, "times": 1})
        assert reply.status_code == 200, reply.text
        session_id = api.create()
        api.error("GetSession", 503, "Boom", SessionId=session_id)
        client.post("/_emulator/quota", json={"max_sessions": 1})
        api.error("CreateMcpSession", 400, "QuotaExceeded.McpSession")
        client.post("/_emulator/script_task", json={"pattern": "x", "statuses": ["failed"]})
        assert client.get("/_emulator/state").json()["state"]["knobs"]["task_rules"] == ["x"]
        client.post("/_emulator/reset", json={"sessions": True})
        assert client.get("/_emulator/state").json()["state"]["live"] == 0
        assert api.create()


def test_state_stamps_each_actions_first_and_last_call_in_wall_clock_time(
    server: EmulatorServer,
) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=server.url, headers=headers) as client:
        api = Api(client)
        before = time.time()
        first = api.create()
        api.tool(first, "shell", {"command": "true"})
        between = time.time()
        api.create()
        stamps = client.get("/_emulator/state").json()["state"]["stamps"]
        assert before <= stamps["CreateMcpSession"][0] <= between <= stamps["CreateMcpSession"][1]
        assert stamps["shell"][0] == stamps["shell"][1] <= between  # tools are stamped too
        client.post("/_emulator/reset", json={})
        assert client.get("/_emulator/state").json()["state"]["stamps"] == {}


@pytest.mark.parametrize(("path", "body", "status", "needle"), [
    ("/_emulator/latency", b"{bad", 400, "JSON"),
    ("/_emulator/latency", b"[1]", 400, "object"),
    ("/_emulator/latency", b'{"action": "X", "seconds": "slow"}', 400, "seconds"),
    ("/_emulator/latency", b'{"action": "X", "seconds": -1}', 400, "negative"),
    ("/_emulator/fault", b'{"code": "X", "unknown": 1}', 400, "unknown"),
    ("/_emulator/nope", b"{}", 404, "unknown knob"),
])
def test_control_endpoint_refuses_bad_requests(server: EmulatorServer, path: str, body: bytes,
                                               status: int, needle: str) -> None:
    reply = httpx.post(server.url + path, content=body,
                       headers={"Authorization": f"Bearer {KEY}"})
    assert reply.status_code == status and needle in reply.json()["error"], reply.text


def test_control_endpoint_needs_an_accepted_key() -> None:
    with EmulatorServer(Emulator(api_keys=["akm-good"], sandbox_factory=FakeSandbox)) as srv:
        assert httpx.get(srv.url + "/_emulator/state").status_code == 401
        wrong = {"Authorization": "Bearer akm-bad"}
        reply = httpx.post(srv.url + "/_emulator/reset", headers=wrong)
        assert reply.status_code == 401 and "akm-bad" not in reply.text
        good = {"Authorization": "Bearer akm-good"}
        assert httpx.get(srv.url + "/_emulator/state", headers=good).status_code == 200
        assert httpx.get(srv.url + "/_emulator/reset", headers=good).status_code == 405


def test_stop_kills_commands_removes_sandboxes_and_closes_the_port(tmp_path: Path) -> None:
    emulator = Emulator(root=tmp_path / "boxes")
    server = EmulatorServer(emulator).start()
    client = httpx.Client(base_url=server.url, timeout=30)
    api = Api(client)
    session_id = api.create()
    api.tool(session_id, "shell", {"command": "echo hi > $HOME/f"})
    if emulator.isolation == "directories":  # namespaced sessions keep their files in memory
        assert any((tmp_path / "boxes").iterdir())
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(api.post, "CallMcpTool", SessionId=session_id, Name="shell",
                              Args='{"command": "sleep 30.61; :"}')
        time.sleep(0.3)
        assert _sleeping("30.61")
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 5
        # The reply may or may not make it out before the connection is dropped.
        with contextlib.suppress(httpx.HTTPError):
            running.result(timeout=5)
    client.close()
    assert not (tmp_path / "boxes").exists() or list((tmp_path / "boxes").iterdir()) == []
    assert not _sleeping("30.61")
    assert emulator.live_sessions() == []
    with pytest.raises(httpx.ConnectError):
        httpx.post(server.url, timeout=2)


def _sleeping(seconds: str) -> bool:
    """Whether a ``sleep seconds`` runs anywhere on this machine (host pids, any namespace)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if cmdline.read_bytes() == f"sleep\0{seconds}\0".encode():
                return True
    return False


def _start_cli(*args: str, **env: str) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    return subprocess.Popen([sys.executable, "-m", "pytest_agentbay.emulator", *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=clean | env)


@pytest.mark.parametrize("how", ["file", "stdin", "environment"])
def test_command_line_takes_the_key_out_of_sight_of_the_process_list(
    how: str, tmp_path: Path
) -> None:
    key = "akm-cli-hidden-key"
    key_file = tmp_path / "key"
    key_file.write_text(key + "\n")
    args = {"file": ["--api-key-file", str(key_file)], "stdin": ["--api-key-file", "-"],
            "environment": []}[how]
    proc = _start_cli(*args, **({"AGENTBAY_EMULATOR_API_KEY": key} if how == "environment"
                                else {}))
    try:
        assert proc.stdin is not None and proc.stdout is not None
        if how == "stdin":
            proc.stdin.write(key + "\n")
        proc.stdin.close()
        url = proc.stdout.readline().split()[4]
        assert key.encode() not in Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        with httpx.Client(base_url=url) as client:
            Api(client).create(key=key)
            Api(client).error("ListSession", 400, "NOT_LOGIN", key="some-other-key")
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.stdout is not None and proc.stderr is not None
    assert key not in proc.stdout.read() + proc.stderr.read()


def test_command_line_says_plainly_when_sessions_are_not_isolated() -> None:
    proc = _start_cli("--isolation", "directories")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert "isolation: directories: WARNING: sessions are NOT isolated" in line


def test_command_line_rejects_a_bad_limit_or_an_empty_key_file(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("\n")
    for args in (["--limit-processes", "0"], ["--api-key-file", str(tmp_path / "empty")]):
        proc = _start_cli(*args)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 2 and ("processes" in err or "no key" in err), err


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_command_line_serves_and_stops_cleanly(stop_signal: signal.Signals) -> None:
    proc = _start_cli("--seed", "3", "--latency", "GetLabel=0.01",
                      AGENTBAY_EMULATOR_API_KEY="akm-cli-secret")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("AgentBay emulator listening on http://127.0.0.1:")
        assert "(isolation: " in line and "akm-cli-secret" not in line
        url = line.split()[4]
        with httpx.Client(base_url=url) as client:
            api = Api(client)
            api.create(key="akm-cli-secret")
            api.error("ListSession", 400, "NOT_LOGIN", key="other")
            query = dict(QUERY)
            assert client.get("/_emulator/state", params=query).status_code == 401
    finally:
        proc.send_signal(stop_signal)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "akm-cli-secret" not in out + err


def test_command_line_refuses_a_public_address() -> None:
    proc = _start_cli("--host", "0.0.0.0")
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 2 and "loopback" in err and "--allow-remote" in err
