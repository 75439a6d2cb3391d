"""The file-system MCP tools (read_file, write_file, list_directory, ...) on a session's files.

The calls are answered by `_fs_agent.py`, a long-lived program inside the session's sandbox
(one per session that uses files, see `_agents`), so they see what the session's commands see.
Replies follow the service's tools: plain text payloads the official SDK parses (`[DIR] name`
lines, `key: value` file info, `---`-separated multi-file reads, base64 for binary reads) and
`isError` replies with Node.js-style texts.
"""

from __future__ import annotations

import marshal
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import _bwrap
from ._agents import AgentError, ReplyTooLarge
from .helper import source
from .records import SessionRecord
from .reply import tool_data
from .tooling import Tool

if TYPE_CHECKING:
    from .state import Store

FS_TIMEOUT_MS = 30_000
AGENT_NAME = "agentbay-file-agent"  # the agent's last argument: how `ps` and `pgrep` show it

# Tool -> (required string fields, optional fields with their accepted types).
_STR = (str,)
_INT = (int,)
SCHEMAS: dict[str, tuple[tuple[str, ...], dict[str, tuple[type, ...]]]] = {
    "read_file": (("path",), {"offset": _INT, "length": _INT, "format": _STR}),
    "write_file": (("path",), {"content": _STR, "mode": _STR}),
    "read_multiple_files": ((), {"paths": (list,)}),
    "list_directory": (("path",), {}),
    "create_directory": (("path",), {}),
    "move_file": (("source", "destination"), {}),
    "delete_file": (("path",), {}),
    "edit_file": (("path",), {"edits": (list,), "dryRun": (bool,)}),
    "get_file_info": (("path",), {}),
    "search_files": (("path", "pattern"), {"excludePatterns": (str, list)}),
}
_NEEDED = {"write_file": ("content",), "read_multiple_files": ("paths",), "edit_file": ("edits",)}


def _check(name: str, args: Mapping[str, Any]) -> str | None:
    """What is wrong with `args` for tool `name`, or None (the service's tools use zod)."""
    strings, optional = SCHEMAS[name]
    for field in strings:
        if not isinstance(args.get(field), str) or not args[field]:
            return f"'{field}' must be a non-empty string"
    for field in _NEEDED.get(name, ()):
        if field not in args:
            return f"'{field}' is required"
    for field, kinds in optional.items():
        value = args.get(field)
        if value is not None and (isinstance(value, bool) is not (bool in kinds)
                                  or not isinstance(value, kinds)):
            return f"'{field}' must be of type {' or '.join(k.__name__ for k in kinds)}"
    if name == "read_multiple_files" and not all(isinstance(p, str) and p for p in args["paths"]):
        return "'paths' must be a list of non-empty strings"
    if name == "edit_file" and not all(
        isinstance(e, dict) and isinstance(e.get("oldText"), str)
        and isinstance(e.get("newText"), str) for e in args["edits"]
    ):
        return "'edits' must be a list of {oldText, newText} strings"
    return None


def _agent() -> tuple[str, ...]:
    """The agent's command line: the spawn server's Python, no site, no user paths."""
    return (*_bwrap.python_program(source("_fs_agent.py"), "_fs_agent.py"), AGENT_NAME)


def call_fs_tool(store: Store, record: SessionRecord, name: str, args: Mapping[str, Any]) -> Any:
    """Run file tool `name` in the session's sandbox and answer as the service does."""
    problem = _check(name, args)
    if problem is not None:
        return tool_data(f"Invalid arguments for {name}: {problem}", is_error=True)
    request = marshal.dumps({"tool": name, "args": dict(args)}, 4)
    sandbox = store.sandbox_for(record)
    try:
        reply = sandbox.call_agent(_agent(), request, timeout_ms=FS_TIMEOUT_MS)
    except ReplyTooLarge:
        return tool_data(
            f"Error: the reply of {name} is larger than the emulator returns in one call "
            "(1 MiB of output); read the file in parts with offset and length.", is_error=True)
    except AgentError as exc:
        return tool_data(f"Error: {name} failed in the sandbox: {exc}", is_error=True)
    except (OSError, ValueError, RuntimeError) as exc:
        return tool_data(f"Error: {name} could not run: the sandbox could not start it: {exc}",
                         is_error=True)
    outcome, text = reply[:1], reply[1:].decode("utf-8", errors="replace")
    if outcome not in (b"o", b"e"):
        return tool_data(f"Error: {name} failed in the sandbox: the file agent's reply is "
                         "not one it sends (was it tampered with?)", is_error=True)
    return tool_data(text, is_error=outcome == b"e")


def _tool(name: str) -> Tool:
    return lambda store, record, args: call_fs_tool(store, record, name, args)


FILE_TOOLS: dict[str, Tool] = {name: _tool(name) for name in SCHEMAS}
