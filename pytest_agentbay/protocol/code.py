"""`run_code` over the MCP tool of `code_latest` sessions, parsed as the official SDK does."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..models.files import (
    EnhancedCodeExecutionResult,
    ExecutionError,
    ExecutionLogs,
    ExecutionResult,
)
from .calls import Op, ToolReply, call_tool
from .mcp_tools import HTTP_MARGIN_S
from .ops import Context, guarded, require_id

ALIASES = {"py": "python", "python3": "python", "js": "javascript", "node": "javascript",
           "nodejs": "javascript"}
LANGUAGES = ("python", "javascript", "r", "java")
# A result item's fields -> the keys the service may use for them (MIME type first).
_FORMATS = {
    "text": ("text/plain", "text"),
    "html": ("text/html", "html"),
    "markdown": ("text/markdown", "markdown"),
    "png": ("image/png", "png"),
    "jpeg": ("image/jpeg", "jpeg"),
    "svg": ("image/svg+xml", "svg"),
    "json": ("application/json", "json"),
    "latex": ("text/latex", "latex"),
    "chart": ("application/vnd.vegalite.v4+json", "application/vnd.vegalite.v5+json", "chart"),
}


def _item(raw: Any) -> ExecutionResult:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
            raw = json.loads(raw) if isinstance(raw, str) else raw  # sometimes encoded twice
        except ValueError:
            pass
    if not isinstance(raw, Mapping):
        return ExecutionResult(text=str(raw))
    fields = {name: next((raw[k] for k in keys if raw.get(k)), None)
              for name, keys in _FORMATS.items()}
    main = bool(raw.get("isMainResult", False) or raw.get("is_main_result", False))
    return ExecutionResult(**fields, is_main_result=main)


def _streams(data: Mapping[str, Any]) -> ExecutionLogs:
    return ExecutionLogs(stdout=list(data.get("stdout") or []),
                         stderr=list(data.get("stderr") or []))


def parse_rich(data: Mapping[str, Any], request_id: str) -> EnhancedCodeExecutionResult | None:
    """The result in either rich shape the SDK knows; None if `data` is neither."""
    common: dict[str, Any] = {"request_id": request_id,
                              "execution_count": data.get("execution_count"),
                              "execution_time": data.get("execution_time") or 0.0}
    if isinstance(data.get("result"), list):  # {"result": [...], "stdout", "stderr", ...}
        failure = data.get("executionError")
        error = ExecutionError("ExecutionError", str(failure), "") if failure else None
        return EnhancedCodeExecutionResult(
            **common, logs=_streams(data), results=[_item(r) for r in data["result"]],
            error=error, success=not failure and not data.get("isError", False))
    if "logs" in data or "results" in data:  # {"logs": {...}, "results": [...], "error": ...}
        raw_error = data.get("error")
        error = None
        if raw_error:
            error = ExecutionError(str(raw_error.get("name", "UnknownError")),
                                   str(raw_error.get("value", "")),
                                   str(raw_error.get("traceback", "")))
        return EnhancedCodeExecutionResult(
            **common, logs=_streams(data.get("logs") or {}), error=error,
            results=[_item(r) for r in data.get("results") or []],
            success=not data.get("isError", False))
    return None


@guarded("run code", EnhancedCodeExecutionResult)
def run_code(
    ctx: Context, session_id: str, code: str, language: str, timeout_s: int = 60
) -> Op[EnhancedCodeExecutionResult]:
    """Run `code` in `language` (python, javascript; r, java where the image has them)."""
    require_id(session_id)
    raw = "" if language is None else str(language)
    canonical = ALIASES.get(raw.strip().lower(), raw.strip().lower())
    if canonical not in LANGUAGES:
        return EnhancedCodeExecutionResult(
            error_message=f"Unsupported language: {raw}. Supported languages are "
                          "'python', 'javascript', 'r', and 'java'")
    args = {"code": code, "language": canonical, "timeout_s": timeout_s}
    wait = (timeout_s if isinstance(timeout_s, (int, float)) else 60) + HTTP_MARGIN_S
    reply = yield from call_tool(session_id, "run_code", args, ctx.retry, timeout_s=wait)
    if reply.is_error:
        return EnhancedCodeExecutionResult(request_id=reply.request_id,
                                           error_message=reply.text or "Failed to run code")
    try:
        data = json.loads(reply.text) if reply.text.strip() else None
    except ValueError:
        data = None
    if isinstance(data, Mapping):
        content = data.get("content")
        if isinstance(content, list) and content and isinstance(content[0], Mapping):
            inner = _json_dict(content[0].get("text"))
            if inner is not None and ("result" in inner or "executionError" in inner):
                data = inner
        parsed = parse_rich(data, reply.request_id)
        if parsed is not None:
            return parsed
        legacy = content[0].get("text") if isinstance(content, list) and content else None
        if not isinstance(legacy, str):
            return EnhancedCodeExecutionResult(
                request_id=reply.request_id, error_message="Unknown response format")
        reply = ToolReply(reply.request_id, legacy, False)
    # Plain text: what the code printed is also its result.
    return EnhancedCodeExecutionResult(
        request_id=reply.request_id, success=True, logs=ExecutionLogs(stdout=[reply.text]),
        results=[ExecutionResult(text=reply.text, is_main_result=True)])


def _json_dict(text: Any) -> dict[str, Any] | None:
    try:
        value = json.loads(text) if isinstance(text, str) and text else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
