"""The tracker's command log: what a failed test's report shows, kept no longer than needed."""

from __future__ import annotations

import json

from pytest_agentbay.plugin.tracker import Tracker
from pytest_agentbay.protocol.codec import Call, RawReply


def shell(command: str, stdout: str) -> tuple[Call, RawReply]:
    call = Call("CallMcpTool", {"SessionId": "s-1", "Name": "shell",
                                "Args": json.dumps({"command": command})})
    text = json.dumps({"stdout": stdout, "stderr": "", "exit_code": 0})
    body = {"RequestId": "R-1", "Success": True,
            "Data": {"content": [{"type": "text", "text": text}], "isError": False}}
    return call, RawReply(200, {}, json.dumps(body).encode())


def test_a_report_shows_the_tests_commands_and_the_next_test_drops_them() -> None:
    tracker = Tracker()
    tracker.secrets.add("sk-secret-value")
    tracker.current = "test_a"
    tracker.observe(*shell("echo sk-secret-value", "hi\n"), 0.01)
    report = tracker.report("test_a", "backend: local", [])
    assert "CallMcpTool s-1 [request R-1]: $ echo ***; exit code 0" in report
    assert "stdout: ...'hi\\n'" in report and "sk-secret-value" not in report
    tracker.current = "test_b"
    assert "test_a" not in tracker.entries
    assert "last calls" not in tracker.report("test_b", "backend: local", [])
