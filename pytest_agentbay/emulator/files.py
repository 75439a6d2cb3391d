"""The file-system MCP tools (read_file, write_file, list_directory, ...) on a session's files.

Each call runs `_fs_agent.py` with the sandbox's own `python3`, inside the session's sandbox,
so it sees what the session's commands see. Replies follow the service's tools: plain text
payloads the official SDK parses (`[DIR] name` lines, `key: value` file info, `---`-separated
multi-file reads, base64 for binary reads) and `isError` replies with Node.js-style texts.
"""

from __future__ import annotations

import base64
import marshal
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .helper import HelperError, env_parts, run_helper, source
from .records import SessionRecord
from .reply import tool_data
from .tooling import Tool

if TYPE_CHECKING:
    from .state import Store

FS_TIMEOUT_MS = 30_000
AGENT_COMMAND = 'python3 -I -S -c "$AGENTBAY_AGENT"'  # no site, no user paths: fast, hermetic

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


def _request(name: str, args: Mapping[str, Any]) -> str:
    """The request as the agent reads it: marshalled (any Python 3 reads version 4), base64."""
    return base64.b64encode(marshal.dumps({"tool": name, "args": dict(args)}, 4)).decode()


def call_fs_tool(store: Store, record: SessionRecord, name: str, args: Mapping[str, Any]) -> Any:
    """Run file tool `name` in the session's sandbox and answer as the service does."""
    problem = _check(name, args)
    if problem is not None:
        return tool_data(f"Invalid arguments for {name}: {problem}", is_error=True)
    envs = env_parts("AGENTBAY_REQ", _request(name, args))
    envs["AGENTBAY_AGENT"] = source("_fs_agent.py")
    try:
        result = run_helper(store, record, AGENT_COMMAND, envs, FS_TIMEOUT_MS)
    except HelperError as exc:
        return tool_data(f"Error: {name} could not run: {exc}", is_error=True)
    if result.truncated:
        return tool_data(
            f"Error: the reply of {name} is larger than the emulator returns in one call "
            "(1 MiB of output); read the file in parts with offset and length.", is_error=True)
    outcome, _, text = result.stdout.partition("\n")
    if outcome not in ("ok", "error") or result.timed_out:
        why = "timed out" if result.timed_out else (
            "python3 is not installed in the sandbox" if result.exit_code == 127
            else f"exit code {result.exit_code}: {result.stderr.strip()[-300:]}")
        return tool_data(f"Error: {name} failed in the sandbox: {why}", is_error=True)
    return tool_data(text, is_error=outcome == "error")


def _tool(name: str) -> Tool:
    return lambda store, record, args: call_fs_tool(store, record, name, args)


FILE_TOOLS: dict[str, Tool] = {name: _tool(name) for name in SCHEMAS}
