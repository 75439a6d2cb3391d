"""CallMcpTool: the table of MCP tools by name, and the action that runs one.

Tool-level problems (unknown tool, bad arguments, unknown task id, non-zero exit, timeout)
answer HTTP 200 with `isError: true`, as the service does. A session that is not RUNNING
(e.g. PAUSED) answers HTTP 400 `InvalidMcpSession.Paused` (or `.StatusNotSupported`).

To add a tool: write `def my_tool(store, record, args)` in a tool module (see `tooling`), add
one line to `TOOLS`, and name it in an image family (`images.FAMILIES`).
"""

from __future__ import annotations

from . import session_tools as built_in
from .code import CODE_TOOLS
from .files import FILE_TOOLS
from .form import Params, json_param, required
from .reply import Ok, tool_data
from .state import Store
from .tooling import Tool, ToolError

TOOLS: dict[str, Tool] = {
    "shell": built_in.shell,
    "get_metrics": built_in.get_metrics,
    "browser_use_initialize": built_in.browser_initialize,
    "flux_execute_task": built_in.computer_execute_task,
    "flux_get_task_status": built_in.task_status,
    "flux_terminate_task": built_in.terminate_task,
    "browser_use_execute_task": built_in.browser_execute_task,
    "browser_use_get_task_status": built_in.task_status,
    "browser_use_terminate_task": built_in.terminate_task,
    "execute_task": built_in.mobile_execute_task,
    "get_task_status": built_in.task_status,
    "terminate_task": built_in.terminate_task,
    **FILE_TOOLS,  # read_file, write_file, ... (files.py)
    **CODE_TOOLS,  # run_code (code.py)
}


def call_mcp_tool(store: Store, key: str, params: Params) -> Ok:
    """CallMcpTool: run a tool the session's image offers."""
    record = store.session(key, required(params, "SessionId"))
    name = required(params, "Name")
    args = json_param(params, "Args", dict, {})
    store.allow_tools(record, name)
    tool = TOOLS.get(name)
    if tool is None or name not in record.image.tool_names:
        offered = ", ".join(sorted(record.image.tool_names))
        return Ok(tool_data(f"Tool '{name}' is not available on image {record.image_id} "
                            f"(its tools: {offered}).", is_error=True))
    try:
        return Ok(tool(store, record, args))
    except ToolError as exc:
        return Ok(tool_data(str(exc), is_error=True))
