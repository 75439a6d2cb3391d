"""Tool operations over CallMcpTool: shell commands and computer/browser agent tasks."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ..errors import AgentBayError, ApiError, ProtocolError
from ..models.params import AgentOptions
from ..models.results import CommandResult, ExecutionResult, InitializationResult, QueryResult
from .calls import Op, ToolReply, call_tool, payload
from .codec import Sleep, text
from .ops import Context, guarded, require_id, require_positive

T = TypeVar("T", ExecutionResult, QueryResult)
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


def command_result(reply: ToolReply) -> CommandResult:
    """Map a shell reply (a JSON object of streams or raw text, error or not) to a CommandResult,
    as the official SDK 0.13.1 reads it, except that a failure never has exit code 0."""
    value = payload(reply.text)
    base: dict[str, Any] = {"request_id": reply.request_id}
    if isinstance(value, dict):
        stdout, stderr = str(value.get("stdout") or ""), str(value.get("stderr") or "")
        base.update(
            output=stdout + stderr,
            stdout=stdout,
            stderr=stderr,
            trace_id=str(value.get("traceId") or ""),
            truncated=value.get("truncated") is True,  # the local backend capped the streams
        )
    if not reply.is_error:
        if not isinstance(value, dict):  # raw output of images that answer in plain text
            return CommandResult(**base, success=True, output=reply.text)
        code = value.get("exit_code", 0)
        exit_code = code if isinstance(code, int) else 0
        return CommandResult(**base, success=exit_code == 0, exit_code=exit_code)
    message = reply.text or "Failed to execute command"
    if not isinstance(value, dict):
        return CommandResult(**base, success=False, exit_code=1, error_message=message)
    code = value.get("exit_code") or value.get("errorCode")
    return CommandResult(
        **base,
        success=False,
        exit_code=code if isinstance(code, int) and code else 1,
        error_message=base["stderr"] or message,
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
    value = payload(reply.text)
    if not isinstance(value, dict):
        raise ProtocolError(f"task reply is not a JSON object: {reply.text[:80]!r}",
                            request_id=reply.request_id)
    return value


def _task_failed(
    result: type[T], doing: str, task_id: str
) -> Callable[[Callable[[AgentTools, Context, str, str], Op[T]]],
              Callable[[AgentTools, Context, str, str], Op[T]]]:
    """Like `guarded`, but a failed task call also says `task_status="failed"` and which task,
    as the official SDK reports it."""

    def wrap(
        operation: Callable[[AgentTools, Context, str, str], Op[T]],
    ) -> Callable[[AgentTools, Context, str, str], Op[T]]:
        @functools.wraps(operation)
        def run(self: AgentTools, ctx: Context, session_id: str, arg: str) -> Op[T]:
            try:
                return (yield from operation(self, ctx, session_id, arg))
            except AgentBayError as error:
                known = arg if task_id == "arg" else ""
                return result.failed(error, doing, task_id=known, task_status="failed")

        return run

    return wrap


class AgentTools:
    """The computer (`flux_`) or browser (`browser_use_`) agent's operations."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    @_task_failed(ExecutionResult, "execute task", task_id="")
    def execute_task(self, ctx: Context, session_id: str, task: str) -> Op[ExecutionResult]:
        """Start `task`; return at once with its id."""
        if not isinstance(task, str) or not task.strip():
            raise ValueError(f"task must be a non-empty string, got {task!r}")
        args = {"task": task}
        reply = yield from call_tool(session_id, self.prefix + "execute_task", args, ctx.retry)
        fields = _task_fields(reply)
        return ExecutionResult(
            request_id=reply.request_id,
            success=True,
            task_id=text(fields, "task_id", "taskId"),
            task_status="running",
        )

    def _about(
        self, ctx: Context, session_id: str, tool: str, task_id: str
    ) -> Op[tuple[ToolReply, dict[str, Any]]]:
        """Call the agent's `tool` about task `task_id`: the reply and its payload fields."""
        args = {"task_id": require_id(task_id, "task_id")}
        reply = yield from call_tool(session_id, self.prefix + tool, args, ctx.retry)
        return reply, _task_fields(reply)

    @_task_failed(QueryResult, "get task status", task_id="arg")
    def get_task_status(self, ctx: Context, session_id: str, task_id: str) -> Op[QueryResult]:
        """One status query for `task_id`."""
        reply, fields = yield from self._about(ctx, session_id, "get_task_status", task_id)
        return QueryResult(
            request_id=reply.request_id,
            success=True,
            task_id=fields.get("task_id", task_id),
            task_status=text(fields, "status") or "finished",
            task_action=fields.get("action", ""),
            task_product=fields.get("product", ""),
        )

    @_task_failed(ExecutionResult, "terminate task", task_id="arg")
    def terminate_task(self, ctx: Context, session_id: str, task_id: str) -> Op[ExecutionResult]:
        """Ask the agent to stop `task_id`."""
        reply, fields = yield from self._about(ctx, session_id, "terminate_task", task_id)
        return ExecutionResult(
            request_id=reply.request_id,
            success=True,
            task_id=fields.get("task_id", task_id),
            task_status=text(fields, "status") or "finished",
        )

    def execute_task_and_wait(
        self, ctx: Context, session_id: str, task: str, max_try_times: int
    ) -> Op[ExecutionResult]:
        """Start `task`, then poll its status every 3 s, at most `max_try_times` times.

        The result carries the execute call's request id; a failed status query ends the wait
        as a failed task, as in the official SDK."""
        require_positive(max_try_times, "max_try_times")
        started = yield from self.execute_task(ctx, session_id, task)
        if not started.success:
            return started.model_copy(update={"task_result": "Task Failed"})
        done: dict[str, Any] = {"request_id": started.request_id, "task_id": started.task_id}
        for attempt in range(int(max_try_times)):
            if attempt:
                yield Sleep(TASK_POLL_SECONDS)
            status = yield from self.get_task_status(ctx, session_id, started.task_id)
            if status.task_status == "finished":
                return ExecutionResult(
                    **done, success=True, task_status="finished", task_result=status.task_product
                )
            if status.task_status in TERMINAL_TASK_STATUSES:
                why = "Unsupported task." if status.task_status == "unsupported" else ""
                return ExecutionResult(
                    **done,
                    success=False,
                    task_status=status.task_status,
                    error_message=why or "Failed to execute task.",
                )
        yield from self.terminate_task(ctx, session_id, started.task_id)
        return ExecutionResult(
            **done,
            success=False,
            task_status="failed",
            task_result="Task timeout.",
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
        if reply.is_error:  # any other reply means ready, whatever its text
            raise ApiError("Failed to initialize browser use agent", request_id=reply.request_id)
        return InitializationResult(request_id=reply.request_id, success=True)


COMPUTER = AgentTools("flux_")
BROWSER = AgentTools("browser_use_")
