"""The built-in MCP tools: `shell`, the agent task tools and `get_metrics` (protocol 3.8)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .knobs import SHELL
from .metrics import host_metrics
from .records import TIMEOUT_EXIT_CODE, RunResultLike, SessionRecord
from .reply import tool_data
from .state import Store
from .tooling import ToolError, text_arg

DEFAULT_TIMEOUT_MS = 50_000


def _shell_args(args: Mapping[str, Any]) -> tuple[str, int, str | None, dict[str, str] | None]:
    command = text_arg(args, "command") or ""
    timeout_ms = args.get("timeout_ms", DEFAULT_TIMEOUT_MS)
    if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or timeout_ms <= 0:
        raise ToolError("Invalid argument 'timeout_ms': expected a positive integer.")
    cwd = text_arg(args, "cwd", needed=False)
    envs = args.get("envs")
    if envs is not None and not (
        isinstance(envs, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in envs.items())
    ):
        raise ToolError("Invalid argument 'envs': expected an object of strings.")
    return command, timeout_ms, cwd, envs


def shell_payload(result: RunResultLike, trace_id: str) -> tuple[dict[str, Any], bool]:
    """The shell reply payload and whether it is an error (protocol 3.8.1)."""
    if result.timed_out:  # the SDK's timeout contract: an error with empty output
        payload = {"errorCode": TIMEOUT_EXIT_CODE, "stdout": "", "stderr": "", "traceId": trace_id}
        return payload, True
    # ``truncated`` is ours (the service has no output cap to report): present only when true.
    cut = {"truncated": True} if result.truncated else {}
    if result.exit_code == 0:
        return {"stdout": result.stdout, "stderr": result.stderr, "exit_code": 0, **cut}, False
    payload = {"errorCode": result.exit_code, "stdout": result.stdout,
               "stderr": result.stderr, "traceId": trace_id, **cut}
    return payload, True


def shell(store: Store, record: SessionRecord, args: Mapping[str, Any]) -> Any:
    """Run the command with bash in the session's sandbox; cwd and envs as process settings."""
    command, timeout_ms, cwd, envs = _shell_args(args)
    store.wait(SHELL)
    sandbox = store.sandbox_for(record)
    try:
        result = sandbox.run(command, timeout_ms=timeout_ms, cwd=cwd, envs=envs)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ToolError(f"The command could not be run: {exc}") from None
    payload, is_error = shell_payload(result, store.ids.trace_id())
    return tool_data(payload, is_error=is_error)


def _execute_task(store: Store, record: SessionRecord, args: Mapping[str, Any],
                  kind: str) -> Any:
    text = text_arg(args, "task") or ""
    task = store.start_task(record, text, kind)
    ids = {"taskId": task.task_id} if kind == "mobile" else {}
    return tool_data(ids | {"task_id": task.task_id, "status": "running"})


def task_status(store: Store, record: SessionRecord, args: Mapping[str, Any]) -> Any:
    """Poll a task: one step along its status sequence."""
    task_id = text_arg(args, "task_id") or ""
    payload = store.poll_task(record, task_id)
    if payload is None:
        raise ToolError(f"Task not found or already finished: {task_id}")
    return tool_data(payload)


def terminate_task(store: Store, record: SessionRecord, args: Mapping[str, Any]) -> Any:
    """Ask a task to stop: `cancelling`, then `cancelled` on the next poll."""
    task_id = text_arg(args, "task_id") or ""
    payload = record.tasks.terminate(task_id)
    if payload is None:
        raise ToolError(f"Task not found or already finished: {task_id}")
    return tool_data(payload)


def browser_initialize(store: Store, record: SessionRecord, args: Mapping[str, Any]) -> Any:
    """0.13's `browser_use_initialize`: the browser is ready."""
    store.open_browser(record, "browser_use_initialize", running=False)
    return tool_data({"success": True, "message": "emulated browser initialized"})


def get_metrics(store: Store, record: SessionRecord, args: Mapping[str, Any]) -> Any:
    """Real CPU, memory, disk and network figures of this machine."""
    return tool_data(host_metrics())


def computer_execute_task(store: Store, record: SessionRecord, args: Mapping[str, Any]) -> Any:
    """`flux_execute_task`: start a computer agent task (outcome: the first matching rule)."""
    return _execute_task(store, record, args, "computer")


def browser_execute_task(store: Store, record: SessionRecord, args: Mapping[str, Any]) -> Any:
    """`browser_use_execute_task`: start a browser agent task."""
    return _execute_task(store, record, args, "browser")


def mobile_execute_task(store: Store, record: SessionRecord, args: Mapping[str, Any]) -> Any:
    """`execute_task`: start a mobile agent task (it ends `completed`, ids in two spellings)."""
    return _execute_task(store, record, args, "mobile")
