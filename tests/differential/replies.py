"""Builders for scripted replies in the service's shapes (standard library only).

A reply is `{"status", "body" | "raw", "headers"?}`: `body` is sent as JSON, `raw` as is.
"""

from __future__ import annotations

import json
from typing import Any

Reply = dict[str, Any]


def ok(data: Any = None, rid: str = "REQ-1", **top: Any) -> Reply:
    """HTTP 200, the success envelope (`Code: ok`), `Data` when given, extra top-level fields."""
    body: dict[str, Any] = {
        "RequestId": rid,
        "Success": True,
        "Code": "ok",
        "Message": "",
        "HttpStatusCode": 200,
    }
    if data is not None:
        body["Data"] = data
    body.update(top)
    return {"status": 200, "body": body}


def bare(body: Any, status: int = 200) -> Reply:
    """Exactly `body` as JSON, nothing added."""
    return {"status": status, "body": body}


def refused(code: str, message: str, rid: str = "REQ-NO", status_code: int = 403) -> Reply:
    """HTTP 200 whose body says `Success: false` with a code (error channel B)."""
    body = {
        "RequestId": rid,
        "Success": False,
        "Code": code,
        "Message": message,
        "HttpStatusCode": status_code,
    }
    return {"status": 200, "body": body}


def err(code: str, message: str, status: int = 400, rid: str = "REQ-ERR", **headers: str) -> Reply:
    """An HTTP 4xx/5xx with a JSON body (error channel A)."""
    body = {"RequestId": rid, "Code": code, "Message": message}
    return {"status": status, "body": body, "headers": headers}


def raw(text: str, status: int = 200) -> Reply:
    """A body that is not JSON (or is empty)."""
    return {"status": status, "raw": text}


NOT_FOUND = err("InvalidMcpSession.NotFound", "Resource [McpSession] is not found.", rid="REQ-NF")
SERVER_ERROR = err("InternalError", "The request processing has failed.", 500, rid="REQ-500")


def tool(text: Any, is_error: bool = False, as_string: bool = False, rid: str = "REQ-T") -> Reply:
    """A CallMcpTool reply: `text` (JSON-encoded unless a string) in `content[0]`."""
    if not isinstance(text, str):
        text = json.dumps(text)
    data: Any = {"content": [{"type": "text", "text": text}], "isError": is_error}
    return ok(json.dumps(data) if as_string else data, rid=rid)


def status(value: str, rid: str = "REQ-G") -> Reply:
    """A GetSession reply reporting `value` (what pause/resume polling reads)."""
    return ok({"SessionId": "s-1", "Status": value}, rid=rid)


def task(status_value: str | None, product: Any = None, rid: str = "REQ-Q") -> Reply:
    """An agent get_task_status reply."""
    payload: dict[str, Any] = {"task_id": "t-1", "action": "click"}
    if status_value is not None:
        payload["status"] = status_value
    if product is not None:
        payload["product"] = product
    return tool(payload, rid=rid)
