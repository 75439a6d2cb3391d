"""The HTTP surface both ways in share: API calls, the knob control endpoint, other methods.

`route` answers any request: `/_emulator/...` goes to the control endpoint, GET and POST on
any other path to the API, and any other method gets HTTP 405 in the API's error envelope.

The control endpoint: the emulator's knobs over HTTP, for tests and benchmarks.

`GET /_emulator/state` answers counts, knob settings, and `stamps`: each action's (and tool's)
first and last call as wall-clock times. `POST /_emulator/<knob>` takes a JSON
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

Delays and durations are seconds from 0 to 3600 (no NaN or infinity), and a latency or fault
names an action or tool that exists; anything else is refused with HTTP 400. Every call
needs the header `Authorization: Bearer <key>` with a key the emulator accepts.
Replies are JSON: `{"ok": true, "state": {...}}`, or `{"ok": false, "error": "..."}` with
HTTP 400 (bad knob or arguments), 401 (key), 404 (unknown knob) or 405 (method).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError, validate_call

from .reply import ApiError, Reply, failure

if TYPE_CHECKING:
    from .core import Emulator

PREFIX = "/_emulator/"
METHODS = ("GET", "POST")
KNOBS: dict[str, str] = {  # knob path -> the `Emulator` method it calls (one table for both)
    "latency": "set_latency",
    "fault": "inject_fault",
    "throttle": "throttle",
    "quota": "set_quota",
    "script_task": "script_task",
    "timing": "set_timing",
    "seed": "reseed",
    "reset": "reset",
}


def not_allowed(method: str) -> ApiError:
    """The error for an HTTP method the service does not answer."""
    return ApiError("MethodNotAllowed",
                    f"The HTTP method {method} is not allowed; use POST (or GET).", 405,
                    {"Allow": ", ".join(METHODS)})


def route(emu: Emulator, method: str, path: str, query: str, authorization: str | None,
          body: bytes) -> Reply:
    """Answer one request whose body was read in full."""
    if path.startswith(PREFIX):
        return control(emu, method, path, authorization, body)
    if method not in METHODS:
        return failure(emu.ids.request_id(), not_allowed(method))
    return emu.handle_raw(query, body, body_size=len(body))


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
    if name not in KNOBS:
        return _fail(404, f"unknown knob {name!r}; knobs: state, {', '.join(KNOBS)}")
    if method != "POST":
        return _fail(405, f"use POST for /_emulator/{name}")
    try:
        validate_call(getattr(emu, KNOBS[name]))(**_body(raw))
    except ValidationError as exc:
        return _fail(400, f"bad arguments for {name}: {_explain(exc)}")
    except (TypeError, ValueError) as exc:
        return _fail(400, f"bad arguments for {name}: {exc}")
    return Reply(200, {"ok": True, "state": emu.state()})
