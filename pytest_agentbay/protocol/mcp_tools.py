"""Tool operations over CallMcpTool: shell commands and computer/browser agent tasks."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..errors import ApiError
from ..models.params import AgentOptions
from ..models.results import CommandResult, ExecutionResult, InitializationResult, QueryResult
from .calls import Op, ToolReply, call_tool, payload
from .codec import Sleep, as_dict, text
from .ops import Context, guarded, require_id, require_positive

TASK_POLL_SECONDS = 3.0
TERMINAL_TASK_STATUSES = frozenset({"finished", "failed", "unsupported"})
HTTP_MARGIN_S = 10.0  # read timeout beyond a command's own timeout, so the server can answer


def _check_envs(envs: Any) -> dict[str, str] | None:
    if envs is None:
        return None
    if not isinstance(envs, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in envs.items()
    ):
        raise ValueError(f"envs must be a dict of str to str, got {envs!r}")
    return dict(envs)


def _wrapped(value: Any) -> bool:
    """The service's wrapped shell payload: exit_code plus stdout or stderr, or both streams."""
    if not isinstance(value, dict):
        return False
    streams = [isinstance(value.get(k), str) for k in ("stdout", "stderr")]
    return (isinstance(value.get("exit_code"), int) and any(streams)) or all(streams)


def command_result(reply: ToolReply) -> CommandResult:
    """Map a shell reply (wrapped object or raw text, error or not) to a CommandResult."""
    value = payload(reply.text)
    if not _wrapped(value):
        error = reply.text if reply.is_error else ""
        return CommandResult(
            request_id=reply.request_id,
            success=not reply.is_error,
            output=reply.text,
            stdout=reply.text,
            exit_code=1 if reply.is_error else 0,
            error_message=error,
        )
    stdout, stderr = str(value.get("stdout") or ""), str(value.get("stderr") or "")
    code = value.get("exit_code", value.get("errorCode", 0))
    exit_code = code if isinstance(code, int) else 0
    if reply.is_error and exit_code == 0:
        exit_code = 1
    return CommandResult(
        request_id=reply.request_id,
        success=exit_code == 0,
        output=stdout + stderr,
        stdout=stdout,
        stderr=stderr,
        exit_code=exit_code,
        trace_id=str(value.get("traceId") or ""),
        error_message=(stderr or reply.text) if exit_code else "",
        truncated=value.get("truncated") is True,
    )


@guarded("execute command", CommandResult)
def execute_command(
    ctx: Context,
    session_id: str,
    command: str,
    timeout_ms: int = 50000,
    cwd: str | None = None,
    envs: dict[str, str] | None = None,
) -> Op[CommandResult]:
    """Run `command` with bash in the session; `cwd` and `envs` are process parameters."""
    require_id(session_id)
    if not isinstance(command, str) or not command.strip():
        raise ValueError(f"command must be a non-empty string, got {command!r}")
    if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or timeout_ms <= 0:
        raise ValueError(f"timeout_ms must be a positive integer, got {timeout_ms!r}")
    if cwd is not None and (not isinstance(cwd, str) or not cwd):
        raise ValueError(f"cwd must be a non-empty string or None, got {cwd!r}")
    args: dict[str, Any] = {"command": command, "timeout_ms": timeout_ms}
    if cwd is not None:
        args["cwd"] = cwd
    if (checked := _check_envs(envs)) is not None:
        args["envs"] = checked
    timeout_s = timeout_ms / 1000 + HTTP_MARGIN_S
    reply = yield from call_tool(session_id, "shell", args, ctx.retry, timeout_s=timeout_s)
    return command_result(reply)


def _task_fields(reply: ToolReply) -> dict[str, Any]:
    if reply.is_error:
        raise ApiError(reply.text or "tool error", request_id=reply.request_id)
    return as_dict(payload(reply.text))


def _product(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value) if value is not None else ""


class AgentTools:
    """The computer (`flux_`) or browser (`browser_use_`) agent's operations."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    @guarded("execute task", ExecutionResult)
    def execute_task(self, ctx: Context, session_id: str, task: str) -> Op[ExecutionResult]:
        """Start `task`; return at once with its id."""
        if not isinstance(task, str) or not task.strip():
            raise ValueError(f"task must be a non-empty string, got {task!r}")
        args = {"task": task}
        reply = yield from call_tool(session_id, self.prefix + "execute_task", args, ctx.retry)
        fields = _task_fields(reply)
        task_id = text(fields, "task_id", "taskId")
        if not task_id:
            raise ApiError("Task ID not found in response", request_id=reply.request_id)
        return ExecutionResult(
            request_id=reply.request_id, success=True, task_id=task_id, task_status="running"
        )

    def _about(
        self, ctx: Context, session_id: str, tool: str, task_id: str
    ) -> Op[tuple[ToolReply, dict[str, Any]]]:
        """Call the agent's `tool` about task `task_id`: the reply and its payload fields."""
        args = {"task_id": require_id(task_id, "task_id")}
        reply = yield from call_tool(session_id, self.prefix + tool, args, ctx.retry)
        return reply, _task_fields(reply)

    @guarded("get task status", QueryResult)
    def get_task_status(self, ctx: Context, session_id: str, task_id: str) -> Op[QueryResult]:
        """One status query for `task_id`."""
        reply, fields = yield from self._about(ctx, session_id, "get_task_status", task_id)
        return QueryResult(
            request_id=reply.request_id,
            success=True,
            task_id=text(fields, "task_id", "taskId") or task_id,
            task_status=text(fields, "status") or "finished",
            task_action=_product(fields.get("action")),
            task_product=_product(fields.get("product", fields.get("result"))),
        )

    @guarded("terminate task", ExecutionResult)
    def terminate_task(self, ctx: Context, session_id: str, task_id: str) -> Op[ExecutionResult]:
        """Ask the agent to stop `task_id`."""
        reply, fields = yield from self._about(ctx, session_id, "terminate_task", task_id)
        return ExecutionResult(
            request_id=reply.request_id,
            success=True,
            task_id=task_id,
            task_status=text(fields, "status") or "finished",
        )

    def execute_task_and_wait(
        self, ctx: Context, session_id: str, task: str, max_try_times: int
    ) -> Op[ExecutionResult]:
        """Start `task`, then poll its status every 3 s, at most `max_try_times` times."""
        require_positive(max_try_times, "max_try_times")
        started = yield from self.execute_task(ctx, session_id, task)
        if not started.success:
            return started
        for attempt in range(int(max_try_times)):
            if attempt:
                yield Sleep(TASK_POLL_SECONDS)
            status = yield from self.get_task_status(ctx, session_id, started.task_id)
            if status.success and status.task_status in TERMINAL_TASK_STATUSES:
                ok = status.task_status == "finished"
                return ExecutionResult(
                    request_id=status.request_id,
                    success=ok,
                    task_id=started.task_id,
                    task_status=status.task_status,
                    task_result=status.task_product,
                    error_message="" if ok else f"Failed to execute task: {status.task_status}",
                )
        yield from self.terminate_task(ctx, session_id, started.task_id)
        return ExecutionResult(
            request_id=started.request_id,
            success=False,
            task_id=started.task_id,
            task_status="failed",
            error_message=f"Task timeout after {max_try_times} status checks.",
        )

    @guarded("initialize browser agent", InitializationResult)
    def initialize(
        self, ctx: Context, session_id: str, options: AgentOptions | None = None
    ) -> Op[InitializationResult]:
        """browser_use_initialize with the agent's options."""
        options = options or AgentOptions()
        args = {"use_vision": options.use_vision, "output_schema": options.output_schema}
        reply = yield from call_tool(session_id, self.prefix + "initialize", args, ctx.retry)
        _task_fields(reply)
        return InitializationResult(request_id=reply.request_id, success=True)


COMPUTER = AgentTools("flux_")
BROWSER = AgentTools("browser_use_")
