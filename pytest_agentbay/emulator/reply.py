"""Replies in the service's JSON envelope, and the errors that become them (protocol 1.6, 1.7).

Error identities. The first three are the service's own; the rest are the emulator's choices
where the real ones are unknown (protocol section 7), in the same style:

- 400 `InvalidMcpSession.NotFound`: unknown, deleted, or another key's session.
- 400 `NOT_LOGIN`: missing, malformed or unaccepted API key (body carries `HostId`).
- 404 `InvalidAction.NotFound`: unknown Action.
- 400 `Throttling.User` with header `x-acs-retry-after` (milliseconds): the throttle knob.
- 400 `InvalidMcpSession.Paused`: tools, InitBrowser or delete on a PAUSING/PAUSED session.
- 400 `InvalidMcpSession.StatusNotSupported`: other actions the status does not allow
  (e.g. tools while RESUMING or DELETING, pause while DELETING).
- 400 `InvalidImage.NotFound`: unknown ImageId; the message lists the known ones.
- 400 `InvalidImage.BrowserNotSupported`: InitBrowser on an image without a browser.
- 400 `QuotaExceeded.McpSession`: the key's concurrent-session quota is reached.
- 400 `MissingParameter` / `InvalidParameter`: missing Action or SessionId; bad form, JSON
  (Labels, Args, ...) or value.
- 413 `RequestEntityTooLarge`: a body over 1 MiB (answered without reading it).
- 411 `LengthRequired`: a loopback request without Content-Length.
- 500 `InternalError`: an emulator bug (logged; the server carries on).

Tool-level failures (unknown tool, bad Args fields, unknown task id, non-zero exit, timeout)
are HTTP 200 with `Data.isError: true`, as on the service.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

HOST_ID = "emulator.agentbay.invalid"  # the real gateway puts its host name in error bodies


@dataclass(frozen=True)
class Reply:
    """An HTTP reply: status, headers and a JSON body."""

    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)

    def content(self) -> bytes:
        """The body as UTF-8 JSON bytes."""
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")

    def all_headers(self) -> dict[str, str]:
        """Headers to send, with the content type and the request id."""
        headers = {"Content-Type": "application/json;charset=utf-8"}
        request_id = self.body.get("RequestId")
        if isinstance(request_id, str):
            headers["x-acs-request-id"] = request_id
        headers.update(self.headers)
        return headers


class ApiError(Exception):
    """A service error: raised by handlers, answered as an HTTP error envelope."""

    def __init__(
        self,
        code: str,
        message: str,
        http_status: int = 400,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class Ok:
    """What a handler returns on success: `Data` plus any top-level fields (list paging)."""

    data: Any = None
    top: Mapping[str, Any] = field(default_factory=dict)


def success(request_id: str, ok: Ok) -> Reply:
    """The success envelope: HTTP 200, `Success: true`, `Code: "ok"`."""
    body: dict[str, Any] = {
        "RequestId": request_id,
        "Success": True,
        "Code": "ok",
        "Message": "",
        "HttpStatusCode": 200,
    }
    if ok.data is not None:
        body["Data"] = ok.data
    body.update(ok.top)
    return Reply(200, body)


def failure(request_id: str, error: ApiError) -> Reply:
    """The error envelope: HTTP 4xx/5xx with `Code`, `Message` and `HostId`."""
    body = {
        "RequestId": request_id,
        "HostId": HOST_ID,
        "Code": error.code,
        "Message": error.message,
        "Success": False,
        "HttpStatusCode": error.http_status,
    }
    return Reply(error.http_status, body, error.headers)


def missing(name: str) -> ApiError:
    """A mandatory parameter was not sent."""
    return ApiError(
        "MissingParameter",
        f'The input parameter "{name}" that is mandatory for processing this request '
        "is not supplied.",
    )


def invalid(name: str, reason: str) -> ApiError:
    """A parameter was sent but cannot be used."""
    return ApiError("InvalidParameter", f'The specified parameter "{name}" is not valid: {reason}')


def not_found() -> ApiError:
    """The session is unknown, deleted, or belongs to another API key."""
    return ApiError("InvalidMcpSession.NotFound", "Resource [McpSession] is not found.")


def not_login() -> ApiError:
    """The API key is missing or not accepted."""
    return ApiError("NOT_LOGIN", "You are not logged in or your login token has expired")


def tool_data(payload: Any, *, is_error: bool = False) -> dict[str, Any]:
    """CallMcpTool `Data`: the payload as text in `content[0]`, plus `isError`."""
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return {"content": [{"type": "text", "text": text}], "isError": is_error}
