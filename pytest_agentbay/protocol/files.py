"""File-system operations over the MCP file tools, with the official SDK's chunking and parsing.

Like the SDK 0.22.3 on the CallMcpTool channel (the service's MQTT path caps a message at
63 KB): `read_file` asks `get_file_info` for the size, then reads 50 KiB chunks with
`offset`/`length`; `write_file` sends at most 51 KiB of UTF-8 per call, the first chunk with
the caller's mode and the rest appended.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..models.files import (
    BoolResult,
    DirectoryEntry,
    DirectoryListResult,
    FileInfoResult,
    FileSearchResult,
    MultipleFileContentResult,
)
from ..models.results import ApiResult
from .calls import Op, ToolReply, call_tool
from .ops import Context, guarded, require_id

DEFAULT_CHUNK_SIZE = 50 * 1024
MAX_CONTENT_BYTES = 51 * 1024
WRITE_MODES = ("overwrite", "append")
R = TypeVar("R", bound=ApiResult)


def check_path(value: Any, what: str = "path") -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {value!r}")
    return value


def call_file_tool(
    ctx: Context, session_id: str, name: str, args: dict[str, Any]
) -> Op[ToolReply]:
    return call_tool(require_id(session_id), name, args, ctx.retry)


def answer(
    reply: ToolReply, result: type[R], default: str, fields: Callable[[str], dict[str, Any]]
) -> R:
    """`reply` as a `result`: the tool's error text (else `default`) on failure, else success
    with the `fields` parsed from the reply's text."""
    if reply.is_error:
        return result(request_id=reply.request_id, error_message=reply.text or default)
    return result(request_id=reply.request_id, success=True, **fields(reply.text))


def bool_result(reply: ToolReply, default: str) -> BoolResult:
    """A BoolResult: `data` True on success."""
    return answer(reply, BoolResult, default, lambda _: {"data": True})


def parse_file_info(text: str) -> dict[str, Any]:
    """`key: value` lines; true/false become bools and numbers numbers, as the SDK does."""
    info: dict[str, Any] = {}
    for line in text.split("\n"):
        if ":" not in line:
            continue
        key, raw = (part.strip() for part in line.split(":", 1))
        value: Any = {"true": True, "false": False}.get(raw.lower(), raw)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value) if "." in value else int(value)
        info[key] = value
    return info


def parse_listing(text: str) -> list[DirectoryEntry]:
    """`[DIR] name` and `[FILE] name` lines; other lines are skipped."""
    entries = []
    for line in (raw.strip() for raw in text.split("\n")):
        for tag, is_dir in (("[DIR]", True), ("[FILE]", False)):
            if line.startswith(tag):
                name = line.replace(tag, "").strip()
                entries.append(DirectoryEntry(name=name, is_directory=is_dir))
    return entries


def parse_multiple(text: str) -> dict[str, str]:
    """`path: content` parts separated by `---` lines, each content stripped (the SDK's rule)."""
    contents: dict[str, str] = {}
    path: str | None = None
    lines: list[str] = []
    for line in text.split("\n") if text else []:
        if ":" in line and path is None:
            path, rest = line.split(":", 1)[0].strip(), line.split(":", 1)[1].strip()
            lines = [rest] if rest else []
        elif line.strip() == "---":
            if path is not None:
                contents[path] = "\n".join(lines).strip()
                path, lines = None, []
        elif path is not None:
            lines.append(line)
    if path is not None:
        contents[path] = "\n".join(lines).strip()
    return contents


@guarded("create directory", BoolResult)
def create_directory(ctx: Context, session_id: str, path: str) -> Op[BoolResult]:
    """Create directory `path` with its parents."""
    args = {"path": check_path(path)}
    reply = yield from call_file_tool(ctx, session_id, "create_directory", args)
    return bool_result(reply, "Failed to create directory")


@guarded("delete file", BoolResult)
def delete_file(ctx: Context, session_id: str, path: str) -> Op[BoolResult]:
    """Delete the file at `path`."""
    args = {"path": check_path(path)}
    reply = yield from call_file_tool(ctx, session_id, "delete_file", args)
    return bool_result(reply, "Failed to delete file")


@guarded("edit file", BoolResult)
def edit_file(
    ctx: Context, session_id: str, path: str, edits: Sequence[dict[str, str]], dry_run: bool
) -> Op[BoolResult]:
    """Replace each edit's `oldText` with its `newText` in `path` (not when `dry_run`)."""
    args = {"path": check_path(path), "edits": list(edits), "dryRun": dry_run}
    reply = yield from call_file_tool(ctx, session_id, "edit_file", args)
    return bool_result(reply, "Failed to edit file")


@guarded("move file", BoolResult)
def move_file(ctx: Context, session_id: str, source: str, destination: str) -> Op[BoolResult]:
    """Move `source` to `destination`."""
    args = {"source": check_path(source, "source"),
            "destination": check_path(destination, "destination")}
    reply = yield from call_file_tool(ctx, session_id, "move_file", args)
    return bool_result(reply, "Failed to move file")


@guarded("get file info", FileInfoResult)
def get_file_info(ctx: Context, session_id: str, path: str) -> Op[FileInfoResult]:
    """Size, times, type and permissions of `path`."""
    args = {"path": check_path(path)}
    reply = yield from call_file_tool(ctx, session_id, "get_file_info", args)
    return answer(reply, FileInfoResult, "Failed to get file info",
                  lambda text: {"file_info": parse_file_info(text)})


@guarded("list directory", DirectoryListResult)
def list_directory(ctx: Context, session_id: str, path: str) -> Op[DirectoryListResult]:
    """The entries of directory `path`."""
    args = {"path": check_path(path)}
    reply = yield from call_file_tool(ctx, session_id, "list_directory", args)
    return answer(reply, DirectoryListResult, "Failed to list directory",
                  lambda text: {"entries": parse_listing(text)})


@guarded("read multiple files", MultipleFileContentResult)
def read_multiple_files(
    ctx: Context, session_id: str, paths: Sequence[str]
) -> Op[MultipleFileContentResult]:
    """The text of each of `paths` in one call."""
    args = {"paths": [check_path(p, "each path") for p in paths]}
    reply = yield from call_file_tool(ctx, session_id, "read_multiple_files", args)
    return answer(reply, MultipleFileContentResult, "Failed to read multiple files",
                  lambda text: {"contents": parse_multiple(text)})


@guarded("search files", FileSearchResult)
def search_files(
    ctx: Context, session_id: str, path: str, pattern: str, exclude_patterns: Sequence[str] | None
) -> Op[FileSearchResult]:
    """Paths under `path` whose names match the wildcard `pattern`."""
    args: dict[str, Any] = {"path": check_path(path), "pattern": check_path(pattern, "pattern")}
    if exclude_patterns:
        args["excludePatterns"] = ",".join(exclude_patterns)
    reply = yield from call_file_tool(ctx, session_id, "search_files", args)
    return answer(reply, FileSearchResult, "Failed to search files",
                  lambda text: {"matches": parse_matches(text)})


def parse_matches(text: str) -> list[str]:
    """One path a line; `No matches found` is an empty search, not an error."""
    matches = text.strip().split("\n") if text else []
    return [] if matches == ["No matches found"] else matches


def split_by_bytes(text: str, max_bytes: int) -> str:
    """The longest prefix of `text` whose UTF-8 encoding fits in `max_bytes`."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    cut = max_bytes
    while cut > 0 and 0x80 <= encoded[cut] < 0xC0:
        cut -= 1  # back to the first byte of the character that does not fit
    return encoded[:cut].decode("utf-8")
