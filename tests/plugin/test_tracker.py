"""The tracker's command log: what a failed test's report shows, kept no longer than needed."""

from __future__ import annotations

import json
from typing import Any

from pytest_agentbay.plugin import tracker as tracker_module
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


def test_a_commands_summary_is_made_only_when_a_report_shows_it(monkeypatch: Any) -> None:
    made: list[str] = []
    real = tracker_module._tool_summary

    def counting(call: Call, envelope: Any) -> tuple[str, dict[str, Any]]:
        made.append(str(call.body["Args"]))
        return real(call, envelope)

    monkeypatch.setattr(tracker_module, "_tool_summary", counting)
    tracker = Tracker()
    tracker.current = "test_passes"
    for n in range(3):
        tracker.observe(*shell(f"echo {n}", f"{n}\n"), 0.01)
    tracker.current = "test_fails"  # the passing test's calls were never shown
    tracker.observe(*shell("echo 9", "9\n"), 0.01)
    assert made == []
    report = tracker.report("test_fails", "backend: local", [])
    assert "$ echo 9; exit code 0" in report and len(made) == 1
    tracker.report("test_fails", "backend: local", [])  # made once, then kept
    assert len(made) == 1


def test_a_failed_command_reply_is_reported_with_its_request_id() -> None:
    tracker = Tracker()
    tracker.current = "test_a"
    call, _ = shell("echo hi", "")
    body = {"RequestId": "R-9", "Code": "InvalidSession.NotFound", "Message": "gone"}
    tracker.observe(call, RawReply(400, {}, json.dumps(body).encode()), 0.01)
    [entry] = tracker.entries["test_a"]
    assert entry.request_id == "R-9" and "InvalidSession.NotFound" in entry.summary
    assert entry.as_dict()["detail"] == {}
