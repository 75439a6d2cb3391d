"""The control endpoint: the emulator's knobs over HTTP, for tests and benchmarks.

`GET /_emulator/state` answers counts and knob settings. `POST /_emulator/<knob>` takes a JSON
object of keyword arguments for the matching `Emulator` method:

| knob          | method            | example body                                            |
|---------------|-------------------|---------------------------------------------------------|
| `latency`     | `set_latency`     | `{"action": "CreateMcpSession", "seconds": 3}`          |
| `fault`       | `inject_fault`    | `{"action": "GetSession", "code": "X", "times": 2}`     |
| `throttle`    | `throttle`        | `{"action": null, "rate": 0.5, "retry_after_ms": 500}`  |
| `quota`       | `set_quota`       | `{"max_sessions": 2}`                                   |
| `script_task` | `script_task`     | `{"pattern": "fail", "error": "no such button"}`        |
| `timing`      | `set_timing`      | `{"settle_seconds": 1, "task_seconds": 6}`              |
| `seed`        | `reseed`          | `{"seed": 42}`                                          |
| `reset`       | `reset`           | `{}` or `{"sessions": true}`                            |

Every call needs the header `Authorization: Bearer <key>` with a key the emulator accepts.
Replies are JSON: `{"ok": true, "state": {...}}`, or `{"ok": false, "error": "..."}` with
HTTP 400 (bad knob or arguments), 401 (key), 404 (unknown knob) or 405 (method).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError, validate_call

from .reply import ApiError, Reply

if TYPE_CHECKING:
    from .core import Emulator

PREFIX = "/_emulator/"


def _knobs(emu: Emulator) -> dict[str, Callable[..., Any]]:
    return {
        "latency": emu.set_latency,
        "fault": emu.inject_fault,
        "throttle": emu.throttle,
        "quota": emu.set_quota,
        "script_task": emu.script_task,
        "timing": emu.set_timing,
        "seed": emu.reseed,
        "reset": emu.reset,
    }


def _fail(status: int, error: str) -> Reply:
    return Reply(status, {"ok": False, "error": error})


def _explain(error: ValidationError) -> str:
    """Pydantic's complaints without the input values (one of them may be an API key)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'body'}: {item['msg']}"
        for item in error.errors(include_input=False, include_url=False)
    )


def _body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object of keyword arguments")
    return body


def control(emu: Emulator, method: str, path: str, authorization: str | None,
            raw: bytes) -> Reply:
    """Answer one control request (path starting with `PREFIX`)."""
    try:
        emu.authenticate(authorization)
    except ApiError:
        return _fail(401, "send the header 'Authorization: Bearer <key>' with an accepted key")
    name = path[len(PREFIX):].strip("/")
    if name == "state":
        return Reply(200, {"ok": True, "state": emu.state()})
    knob = _knobs(emu).get(name)
    if knob is None:
        return _fail(404, f"unknown knob {name!r}; knobs: state, {', '.join(_knobs(emu))}")
    if method != "POST":
        return _fail(405, f"use POST for /_emulator/{name}")
    try:
        validate_call(knob)(**_body(raw))
    except ValidationError as exc:
        return _fail(400, f"bad arguments for {name}: {_explain(exc)}")
    except (TypeError, ValueError) as exc:
        return _fail(400, f"bad arguments for {name}: {exc}")
    return Reply(200, {"ok": True, "state": emu.state()})
