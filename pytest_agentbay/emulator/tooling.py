"""What an MCP tool is: a function (store, session, args) -> payload, and its errors.

Tool modules (`session_tools`, and any new one) import from here only; the table that names
them is `mcp.TOOLS`, so adding a tool is one function plus one line there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .records import SessionRecord
from .state import Store


class ToolError(Exception):
    """A tool-level failure: answered as `isError` with this text (HTTP 200, as the service)."""


Tool = Callable[[Store, SessionRecord, Mapping[str, Any]], Any]
"""A tool: the state layer, the caller's session (allowed to run tools) and the parsed `Args`;
returns `reply.tool_data(...)` or raises `ToolError`."""


def text_arg(args: Mapping[str, Any], name: str, *, needed: bool = True) -> str | None:
    """A string argument; a `ToolError` naming it when missing (if `needed`) or not a string."""
    value = args.get(name)
    if value is None and not needed:
        return None
    if not isinstance(value, str) or (needed and not value):
        raise ToolError(f"Invalid argument '{name}': expected a non-empty string.")
    return value
