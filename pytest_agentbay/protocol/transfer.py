"""Reading and writing whole files in chunks, as the official SDK 0.22.3 does over CallMcpTool."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ..errors import AgentBayError
from ..models.files import BinaryFileContentResult, BoolResult, FileContentResult
from .calls import Op
from .files import (
    DEFAULT_CHUNK_SIZE,
    MAX_CONTENT_BYTES,
    WRITE_MODES,
    bool_result,
    call_file_tool,
    check_path,
    get_file_info,
    split_by_bytes,
)
from .ops import Context, guarded

ReadResult = FileContentResult | BinaryFileContentResult


def _read_failed(binary: bool, request_id: str, message: str) -> ReadResult:
    if binary:
        return BinaryFileContentResult(request_id=request_id, error_message=message)
    return FileContentResult(request_id=request_id, error_message=message)


def _chunk(
    ctx: Context, session_id: str, path: str, offset: int, length: int, binary: bool
) -> Op[ReadResult]:
    """One `read_file` call for `length` bytes at `offset`."""
    args: dict[str, Any] = {"path": path, "offset": offset, "length": length}
    if binary:
        args["format"] = "binary"
    reply = yield from call_file_tool(ctx, session_id, "read_file", args)
    if reply.is_error:
        return _read_failed(binary, reply.request_id, reply.text or "Failed to read file")
    if not binary:
        return FileContentResult(request_id=reply.request_id, success=True, content=reply.text)
    try:
        data = base64.b64decode(reply.text, validate=True)
    except (binascii.Error, ValueError) as exc:
        return _read_failed(True, reply.request_id, f"Failed to decode base64: {exc}")
    return BinaryFileContentResult(request_id=reply.request_id, success=True, content=data,
                                   size=len(data))


def read_file(ctx: Context, session_id: str, path: str, format: str = "text") -> Op[ReadResult]:
    """The file's text (or bytes with `format="bytes"`): its size first, then 50 KiB chunks."""
    if format not in ("text", "bytes"):
        raise ValueError(f"format must be 'text' or 'bytes', got {format!r}")
    binary = format == "bytes"
    check_path(path)
    try:
        info = yield from get_file_info(ctx, session_id, path)
        if not info.success:
            return _read_failed(binary, info.request_id, info.error_message)
        if not info.file_info or info.file_info.get("isDirectory", False):
            message = f"Path does not exist or is a directory: {path}"
            return _read_failed(binary, info.request_id, message)
        size = info.size
        parts: list[Any] = []
        offset = 0
        while offset < size:
            length = min(DEFAULT_CHUNK_SIZE, size - offset)
            chunk = yield from _chunk(ctx, session_id, path, offset, length, binary)
            if not chunk.success:
                return chunk
            parts.append(chunk.content)
            offset += length
    except AgentBayError as error:
        failed = BinaryFileContentResult if binary else FileContentResult
        return failed.failed(error, "read file")
    if binary:
        data = b"".join(parts)
        return BinaryFileContentResult(request_id=info.request_id, success=True, content=data,
                                       size=len(data))
    return FileContentResult(request_id=info.request_id, success=True, content="".join(parts))


@guarded("write file", BoolResult)
def write_file(
    ctx: Context, session_id: str, path: str, content: str, mode: str = "overwrite"
) -> Op[BoolResult]:
    """Write `content` in chunks of at most 51 KiB: the first with `mode`, the rest appended."""
    check_path(path)
    if not isinstance(content, str):
        raise ValueError(f"content must be a string, got {type(content).__name__}")
    if mode not in WRITE_MODES:
        return BoolResult(error_message=f"Invalid write mode: {mode}. "
                                        "Must be 'overwrite' or 'append'.")
    remaining, current = content, mode
    while True:
        chunk = split_by_bytes(remaining, MAX_CONTENT_BYTES)
        args = {"path": path, "content": chunk, "mode": current}
        result = bool_result((yield from call_file_tool(ctx, session_id, "write_file", args)),
                       "Failed to write file")
        remaining, current = remaining[len(chunk):], "append"
        if not result.success or not remaining:
            return result
