"""CallMcpTool: shell reply shapes, and the agent task engine with scripted outcomes."""

from __future__ import annotations

import json

import pytest

from pytest_agentbay.clock import VirtualClock
from pytest_agentbay.emulator import Emulator

from .conftest import Api, FakeSandbox


def test_shell_success_failure_and_timeout_shapes(api: Api) -> None:
    session_id = api.create()
    payload, is_error = api.tool(session_id, "shell", {"command": "echo", "timeout_ms": 5000})
    assert (payload, is_error) == ({"stdout": "ran echo", "stderr": "", "exit_code": 0}, False)
    payload, is_error = api.tool(session_id, "shell", {"command": "fail"})
    assert is_error and payload["errorCode"] == 3 and payload["traceId"]
    assert (payload["stdout"], payload["stderr"]) == ("partial", "it broke")
    payload, is_error = api.tool(session_id, "shell", {"command": "hang", "timeout_ms": 1000})
    assert is_error and payload["errorCode"] == 124
    assert (payload["stdout"], payload["stderr"]) == ("", "")  # the SDK's timeout contract


def test_shell_passes_cwd_envs_and_timeout_as_parameters(api: Api,
                                                         sandboxes: list[FakeSandbox]) -> None:
    session_id = api.create()
    envs = {"QUOTE": "it's \"x\"; rm -rf /\nnext"}
    api.tool(session_id, "shell", {"command": "pwd", "timeout_ms": 777, "cwd": "/a dir",
                                   "envs": envs})
    api.tool(session_id, "shell", {"command": "pwd"})
    first, second = sandboxes[0].commands
    assert first == {"command": "pwd", "timeout_ms": 777, "cwd": "/a dir", "envs": envs}
    assert second == {"command": "pwd", "timeout_ms": 50_000, "cwd": None, "envs": {}}


def _run_to_end(api: Api, session_id: str, prefix: str, task: str) -> list[dict[str, object]]:
    started, is_error = api.tool(session_id, f"{prefix}execute_task", {"task": task})
    assert not is_error and started["task_id"].startswith("task-")
    seen = []
    for _ in range(10):
        status, is_error = api.tool(session_id, f"{prefix}get_task_status",
                                    {"task_id": started["task_id"]})
        assert not is_error
        seen.append(status)
        if status["status"] in ("finished", "completed", "failed", "unsupported"):
            break
    return seen


@pytest.mark.parametrize(("image", "prefix", "done"), [
    ("linux_latest", "flux_", "finished"),
    ("windows_latest", "flux_", "finished"),
    ("browser_latest", "browser_use_", "finished"),
    ("mobile_latest", "", "completed"),
])
def test_default_task_finishes_at_the_first_poll_and_says_it_was_emulated(
    api: Api, image: str, prefix: str, done: str
) -> None:
    session_id = api.create(ImageId=image)
    [status] = _run_to_end(api, session_id, prefix, "open the calculator")
    assert status["status"] == done
    assert "emulated result: task 'open the calculator' was not run by a real agent" in str(
        status["product"])


def test_agent_tools_follow_the_image(api: Api) -> None:
    code = api.create(ImageId="code_latest")
    text, is_error = api.tool(code, "flux_execute_task", {"task": "x"})
    assert is_error and "code_latest" in text
    linux = api.create(ImageId="linux_latest")
    assert api.tool(linux, "browser_use_execute_task", {"task": "x"})[1] is True


def test_task_time_runs_on_the_emulator_clock(emulator: Emulator, clock: VirtualClock,
                                              api: Api) -> None:
    emulator.set_timing(task_seconds=6)
    session_id = api.create()
    task_id = api.tool(session_id, "flux_execute_task", {"task": "slow"})[0]["task_id"]
    for _ in range(3):
        assert api.tool(session_id, "flux_get_task_status", {"task_id": task_id})[0][
            "status"] == "running"
    clock.advance(6)
    status = api.tool(session_id, "flux_get_task_status", {"task_id": task_id})[0]
    assert status["status"] == "finished"


def test_scripted_status_sequence_result_and_failure(emulator: Emulator, api: Api) -> None:
    emulator.script_task(r"weather", statuses=["running", "running", "finished"],
                         result={"result": "sunny, 25C"})
    emulator.script_task(r"^click", error="button not found")
    emulator.script_task(r"forbidden", statuses=["unsupported"])
    session_id = api.create(ImageId="browser_latest")
    seen = _run_to_end(api, session_id, "browser_use_", "what is the weather in Hangzhou")
    assert [s["status"] for s in seen] == ["running", "finished"]
    assert json.loads(str(seen[-1]["product"])) == {"result": "sunny, 25C"}
    failed = _run_to_end(api, session_id, "browser_use_", "click the red button")
    assert failed[-1]["status"] == "failed" and failed[-1]["error"] == "button not found"
    assert _run_to_end(api, session_id, "browser_use_", "forbidden task")[-1]["status"] == (
        "unsupported")


def test_terminate_gives_cancelling_then_cancelled(emulator: Emulator, api: Api) -> None:
    emulator.set_timing(task_seconds=100)
    session_id = api.create()
    task_id = api.tool(session_id, "flux_execute_task", {"task": "long"})[0]["task_id"]
    stopped, is_error = api.tool(session_id, "flux_terminate_task", {"task_id": task_id})
    assert not is_error and stopped == {"task_id": task_id, "status": "cancelling"}
    status = api.tool(session_id, "flux_get_task_status", {"task_id": task_id})[0]
    assert status["status"] == "cancelled"


def test_unknown_task_id_is_a_tool_error(api: Api) -> None:
    session_id = api.create()
    for tool in ("flux_get_task_status", "flux_terminate_task"):
        text, is_error = api.tool(session_id, tool, {"task_id": "task-nope"})
        assert is_error and text.startswith("Task not found") and "task-nope" in text
    assert api.tool(session_id, "flux_execute_task", {})[1] is True


def test_tasks_belong_to_their_session(api: Api) -> None:
    a, b = api.create(), api.create()
    task_id = api.tool(a, "flux_execute_task", {"task": "x"})[0]["task_id"]
    assert api.tool(b, "flux_get_task_status", {"task_id": task_id})[1] is True


def test_bad_script_rules_are_refused(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="pattern"):
        emulator.script_task("(unclosed")
    with pytest.raises(ValueError, match="statuses"):
        emulator.script_task("x", statuses=[])


def test_browser_use_initialize_for_old_sdks(api: Api) -> None:
    session_id = api.create(ImageId="browser_latest")
    payload, is_error = api.tool(session_id, "browser_use_initialize",
                                 {"use_vision": False, "output_schema": {}})
    assert not is_error and payload["success"] is True
