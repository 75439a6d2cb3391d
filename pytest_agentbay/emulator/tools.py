"""CallMcpTool: the `shell` tool, the agent task tools and `get_metrics` (protocol 3.8).

Tool-level problems (unknown tool, bad arguments, unknown task id, non-zero exit, timeout)
answer HTTP 200 with `isError: true`, as the service does. A session that is not RUNNING
(e.g. PAUSED) answers HTTP 400 `InvalidMcpSession.Paused` (or `.StatusNotSupported`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..protocol.lifecycle import ACCEPTS_TOOLS
from .metrics import host_metrics
from .params import Params, json_param, required
from .reply import Ok, tool_data
from .state import RunResultLike, SessionRecord, refusal

if TYPE_CHECKING:
    from .core import Emulator

DEFAULT_TIMEOUT_MS = 50_000
TIMEOUT_EXIT_CODE = 124
KIND_OF_PREFIX = {"flux_": "computer", "browser_use_": "browser", "": "mobile"}


class ToolError(Exception):
    """A tool-level failure: answered as `isError` with this text."""


Tool = Callable[["Emulator", SessionRecord, Mapping[str, Any]], Any]


def _text(args: Mapping[str, Any], name: str, *, needed: bool = True) -> str | None:
    value = args.get(name)
    if value is None and not needed:
        return None
    if not isinstance(value, str) or (needed and not value):
        raise ToolError(f"Invalid argument '{name}': expected a non-empty string.")
    return value


def _shell_args(args: Mapping[str, Any]) -> tuple[str, int, str | None, dict[str, str] | None]:
    command = _text(args, "command") or ""
    timeout_ms = args.get("timeout_ms", DEFAULT_TIMEOUT_MS)
    if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or timeout_ms <= 0:
        raise ToolError("Invalid argument 'timeout_ms': expected a positive integer.")
    cwd = _text(args, "cwd", needed=False)
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
    if result.exit_code == 0:
        return {"stdout": result.stdout, "stderr": result.stderr, "exit_code": 0}, False
    payload = {"errorCode": result.exit_code, "stdout": result.stdout,
               "stderr": result.stderr, "traceId": trace_id}
    return payload, True


def shell(emu: Emulator, record: SessionRecord, args: Mapping[str, Any]) -> Any:
    """Run the command with bash in the session's sandbox; cwd and envs as process settings."""
    command, timeout_ms, cwd, envs = _shell_args(args)
    with emu.store.lock:
        delay = emu.knobs.latency.get("shell", 0.0)
    if delay > 0:
        emu.clock.sleep(delay)
    sandbox = emu.sandbox_for(record)
    try:
        result = sandbox.run(command, timeout_ms=timeout_ms, cwd=cwd, envs=envs)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ToolError(f"The command could not be run: {exc}") from None
    payload, is_error = shell_payload(result, emu.ids.trace_id())
    return tool_data(payload, is_error=is_error)


def execute_task(emu: Emulator, record: SessionRecord, args: Mapping[str, Any], kind: str) -> Any:
    """Start an agent task; its outcome follows the first scripted rule matching its text."""
    text = _text(args, "task") or ""
    with emu.store.lock:
        rule = emu.knobs.rule_for(text)
    task = record.tasks.start(emu.ids.task_id(), text, kind, rule, emu.now())
    ids = {"taskId": task.task_id} if kind == "mobile" else {}
    return tool_data(ids | {"task_id": task.task_id, "status": "running"})


def task_status(emu: Emulator, record: SessionRecord, args: Mapping[str, Any]) -> Any:
    """Poll a task: one step along its status sequence."""
    task_id = _text(args, "task_id") or ""
    with emu.store.lock:
        seconds = emu.knobs.task_seconds
    payload = record.tasks.poll(task_id, emu.now(), seconds)
    if payload is None:
        raise ToolError(f"Task not found or already finished: {task_id}")
    return tool_data(payload)


def terminate_task(emu: Emulator, record: SessionRecord, args: Mapping[str, Any]) -> Any:
    """Ask a task to stop: `cancelling`, then `cancelled` on the next poll."""
    task_id = _text(args, "task_id") or ""
    payload = record.tasks.terminate(task_id)
    if payload is None:
        raise ToolError(f"Task not found or already finished: {task_id}")
    return tool_data(payload)


def browser_initialize(emu: Emulator, record: SessionRecord, args: Mapping[str, Any]) -> Any:
    """0.13's `browser_use_initialize`: the browser is ready."""
    with emu.store.lock:
        record.browser_port = record.browser_port or 9222
    return tool_data({"success": True, "message": "emulated browser initialized"})


def get_metrics(emu: Emulator, record: SessionRecord, args: Mapping[str, Any]) -> Any:
    """Real CPU, memory, disk and network figures of this machine."""
    return tool_data(host_metrics())


def _agent(kind: str) -> Tool:
    return lambda emu, record, args: execute_task(emu, record, args, kind)


TOOLS: dict[str, Tool] = {"shell": shell, "get_metrics": get_metrics,
                          "browser_use_initialize": browser_initialize}
for _prefix, _kind_name in KIND_OF_PREFIX.items():
    TOOLS[f"{_prefix}execute_task"] = _agent(_kind_name)
    TOOLS[f"{_prefix}get_task_status"] = task_status
    TOOLS[f"{_prefix}terminate_task"] = terminate_task


def call_mcp_tool(emu: Emulator, key: str, params: Params) -> Ok:
    """CallMcpTool: run a tool the session's image offers."""
    record = emu.session(key, required(params, "SessionId"))
    name = required(params, "Name")
    args = json_param(params, "Args", dict, {})
    with emu.store.lock:
        if record.status not in ACCEPTS_TOOLS:
            raise refusal(record, f"running tool {name}")
    tool = TOOLS.get(name)
    if tool is None or name not in record.image.tool_names:
        offered = ", ".join(sorted(record.image.tool_names))
        return Ok(tool_data(f"Tool '{name}' is not available on image {record.image_id} "
                            f"(its tools: {offered}).", is_error=True))
    try:
        return Ok(tool(emu, record, args))
    except ToolError as exc:
        return Ok(tool_data(str(exc), is_error=True))
