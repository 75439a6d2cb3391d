"""Beside pytest-recording: a `@pytest.mark.vcr` test that also uses AgentBay sends AgentBay
calls to our cassette (scrubbed) and only its other traffic to pytest-recording's; the files do
not collide, the key is in neither, and both replay offline. Our scrubbing is offered as ready
`before_record_request` / `before_record_response` functions for that other traffic."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .conftest import GUARD, KEY, LIVE, Live, Project
from .test_replay import SDK

BOTH = """
import os

import httpx
import pytest

@pytest.mark.vcr
def test_both(agentbay_session):
    assert agentbay_session.command.execute_command("echo hi").stdout == "hi\\n"
    key = os.environ["AGENTBAY_API_KEY"]  # code under test passing the key on, carelessly
    reply = httpx.get(
        os.environ["OTHER_URL"] + "/data",
        params={"token": key},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert reply.json()["data"] == "other"
"""

SCRUBBED = """
import pytest
import pytest_agentbay

@pytest.fixture
def vcr_config():
    return {
        "before_record_request": pytest_agentbay.before_record_request,
        "before_record_response": pytest_agentbay.before_record_response,
    }
"""


class _Other(BaseHTTPRequestHandler):
    """Another service the code under test calls; it echoes what it was given."""

    def do_GET(self) -> None:
        body = json.dumps(
            {"data": "other", "Token": self.path, "seen": self.headers.get("Authorization")}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def other(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A loopback HTTP service that is not AgentBay, at OTHER_URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Other)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setenv("OTHER_URL", url)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def _no_key(project: Project) -> dict[str, str]:
    files = project.cassettes()
    for name, text in files.items():
        assert KEY not in text and "cassette-key" not in text, name
    return files


def test_each_cassette_gets_its_own_traffic_and_both_replay(
    project: Project, live: Live, other: str
) -> None:
    project.pytester.makeconftest(GUARD + SCRUBBED)
    project.pytester.makepyfile(test_it=BOTH)
    project.record("once", "--record-mode=once").assert_outcomes(passed=1)
    files = _no_key(project)
    assert set(files) == {"test_it/test_both.agentbay.yaml", "test_it/test_both.yaml"}
    ours, theirs = files["test_it/test_both.agentbay.yaml"], files["test_it/test_both.yaml"]
    assert "Action=CallMcpTool" in ours and "echo+hi" in ours and "/data" not in ours
    assert "Action=" not in theirs and "/data?token=" in theirs and "Bearer ***" in theirs

    project.replay().assert_outcomes(passed=1)  # offline: both answered from their files
    assert project.cassettes() == files


def test_a_live_run_keeps_agentbay_calls_out_of_pytest_recording(
    project: Project, live: Live, other: str
) -> None:
    project.pytester.makepyfile(test_it=BOTH)  # pytest-recording's own defaults, no filters
    result = project.pytester.runpytest(*LIVE, "--record-mode=once")
    result.assert_outcomes(passed=1)
    assert live.calls("CallMcpTool") == 1
    theirs = project.cassettes()
    assert list(theirs) == ["test_it/test_both.yaml"]
    assert "Action=" not in theirs["test_it/test_both.yaml"]


# The official SDK's sync and async clients, every test under pytest-recording's cassette.
SDK_UNDER_VCR = "import pytest\npytestmark = pytest.mark.vcr\n" + SDK


def test_the_official_sdk_under_a_refusing_pytest_recording_cassette(
    project: Project, live: Live
) -> None:
    """pytest-recording's default mode ("none") refuses new requests: AgentBay calls of the
    official SDK (requests, and its async client) still go out, into our cassette."""
    project.pytester.makepyfile(test_sdk=SDK_UNDER_VCR)
    project.record("once").assert_outcomes(passed=2)
    assert live.calls("CallMcpTool") == 2
    files = _no_key(project)
    assert set(files) == {
        "test_sdk/test_sdk_sync.agentbay.yaml",
        "test_sdk/test_sdk_async.agentbay.yaml",
    }
    assert "echo+sync" in files["test_sdk/test_sdk_sync.agentbay.yaml"]
    project.replay().assert_outcomes(passed=2)
