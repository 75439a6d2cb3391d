"""The `run_code` MCP tool: Python with the sandbox's `python3`, JavaScript with `node`.

The code runs as a command of the session's sandbox, so it sees the session's files and is
killed with its whole process group when `timeout_s` runs out. The reply is the rich JSON the
official SDK parses (see `images.py` for what the emulator chooses where the service is silent).
"""

from __future__ import annotations

import ast
import json
import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .helper import HelperError, env_parts, run_helper, source
from .records import RunResultLike, SessionRecord
from .reply import tool_data
from .tooling import Tool

if TYPE_CHECKING:
    from .state import Store

DEFAULT_TIMEOUT_S = 60
RUNNERS = {
    "python": ('python3 -E -s -c "$AGENTBAY_RUNNER"', "_py_runner.py", "python3"),
    "javascript": ('node -e "$AGENTBAY_RUNNER"', "_js_runner.js", "Node.js ('node')"),
}
NOT_EMULATED = ("r", "java")  # the service runs them; the emulator's sandbox has no runtime

def _args(args: Mapping[str, Any]) -> tuple[str, str, float] | str:
    code, language = args.get("code"), args.get("language")
    timeout_s = args.get("timeout_s", DEFAULT_TIMEOUT_S)
    if not isinstance(code, str):
        return "'code' must be a string"
    if not isinstance(language, str) or not language:
        return "'language' must be a non-empty string"
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or timeout_s <= 0:
        return "'timeout_s' must be a positive number"
    return code, language.strip().lower(), float(timeout_s)


def _logs(text: str) -> list[str]:
    return [text] if text else []


def _record(text: str) -> dict[str, Any] | None:
    """The runner's record: JSON from Node, a Python literal from Python."""
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
    return value if isinstance(value, dict) else None


def _payload(result: RunResultLike, mark: str, count: int, took: float, timeout_s: float
             ) -> dict[str, Any] | None:
    """The rich reply; None when the runner never got to report (it could not start)."""
    stdout, found, tail = result.stdout.rpartition(mark)
    if not found:
        stdout = result.stdout
    record: dict[str, Any] = {"results": [], "error": None}
    if found:
        parsed = _record(tail)
        record, found = (parsed, found) if parsed is not None else (record, "")
    if result.timed_out:
        record["error"] = {"name": "TimeoutError", "traceback": "",
                           "value": f"Execution timed out after {timeout_s:g} seconds"}
    elif not found:
        if result.exit_code == 127:
            return None
        record["error"] = {"name": "ProcessExit", "traceback": "",
                           "value": f"the interpreter exited with code {result.exit_code} "
                                    "before the code finished"}
    error = record.get("error")
    return {"logs": {"stdout": _logs(stdout), "stderr": _logs(result.stderr)},
            "results": record.get("results") or [], "error": error,
            "execution_count": count, "execution_time": round(took, 6),
            "isError": bool(error)}


def run_code(store: Store, record: SessionRecord, args: Mapping[str, Any]) -> Any:
    """Run `code` in `language` in the session's sandbox; answer the SDK's rich result."""
    checked = _args(args)
    if isinstance(checked, str):
        return tool_data(f"Invalid arguments for run_code: {checked}", is_error=True)
    code, language, timeout_s = checked
    if language in NOT_EMULATED:
        return tool_data(f"Language '{language}' is not available in the emulator, which runs "
                         "'python' and 'javascript'.", is_error=True)
    if language not in RUNNERS:
        return tool_data(f"Unsupported language: {language}. Supported languages are 'python', "
                         "'javascript', 'r', and 'java'", is_error=True)
    command, runner, needs = RUNNERS[language]
    mark = f"\n--agentbay-result-{secrets.token_hex(16)}--"
    envs = env_parts("AGENTBAY_CODE", code) | {"AGENTBAY_RUNNER": source(runner),
                                                "AGENTBAY_MARK": mark}
    count = store.next_code_run(record)  # Jupyter's `In [n]`, per session
    started = time.monotonic()
    try:
        result = run_helper(store, record, command, envs, max(1, int(timeout_s * 1000)))
    except HelperError as exc:
        return tool_data(f"run_code could not run: {exc}", is_error=True)
    payload = _payload(result, mark, count, time.monotonic() - started, timeout_s)
    if payload is None:
        return tool_data(f"run_code: {language} needs {needs}, which is not installed in the "
                         "emulator's sandbox.", is_error=True)
    return tool_data(payload)


CODE_TOOLS: dict[str, Tool] = {"run_code": run_code}
