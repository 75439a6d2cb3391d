"""Calling one action: retries for what is safe to retry, and tool-call payload decoding."""

from __future__ import annotations

import json
import random
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ..errors import ApiError, ProtocolError, ThrottlingError, TransportError
from .codec import Call, Envelope, Failure, RawReply, Sleep, decode

T = TypeVar("T")
Effect = Call | Sleep
Op = Generator[Effect, Any, T]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff for throttling and connections that never opened.

    A request that may have reached the server (a dropped connection, a read timeout) is never
    sent again: a create could otherwise make two sessions.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int, hint: float | None = None) -> float:
        """Seconds to wait before try number `attempt + 1`: the service's hint, else backoff
        with jitter (half fixed, half random), so processes throttled together retry apart."""
        if hint:
            return min(hint, self.max_delay)
        backoff = float(min(self.base_delay * 2**attempt, self.max_delay))
        return backoff / 2 + random.uniform(0.0, backoff / 2)


def _failure(action: str, failure: Failure) -> TransportError:
    where = "before the request was sent" if not failure.sent else "after the request was sent"
    return TransportError(
        f"{action}: {failure.kind} {where}: {failure.detail}", code=failure.kind, sent=failure.sent
    )


def call(
    action: str,
    body: Mapping[str, Any],
    retry: RetryPolicy,
    *,
    check_success: bool = True,
    **options: Any,
) -> Op[Envelope]:
    """Send `action` and return its envelope; raise the AgentBayError that says what went wrong."""
    request = Call(action, body, **options)
    attempt = 0
    while True:
        outcome: RawReply | Failure = yield request
        attempt += 1
        hint: float | None = None
        if isinstance(outcome, Failure):
            if outcome.sent or attempt >= retry.attempts:
                raise _failure(action, outcome)
        else:
            try:
                return decode(action, outcome, check_success=check_success)
            except ThrottlingError as throttled:
                if attempt >= retry.attempts:
                    raise
                hint = throttled.retry_after
        yield Sleep(retry.delay(attempt - 1, hint))


@dataclass(frozen=True)
class ToolReply:
    """A CallMcpTool reply: the text of `content[0]` and whether the tool reported an error."""

    request_id: str
    text: str
    is_error: bool


def tool_reply(envelope: Envelope) -> ToolReply:
    """Decode CallMcpTool's Data, which the service sends as an object or as a JSON string."""
    data = envelope.data
    if isinstance(data, str) and data.strip():
        try:
            data = json.loads(data)
        except ValueError:
            raise ProtocolError(
                f"CallMcpTool: Data is a string but not JSON: {data[:80]!r}",
                request_id=envelope.request_id,
            ) from None
    if not data:
        raise ApiError("Empty response data", request_id=envelope.request_id)
    if not isinstance(data, dict):
        raise ProtocolError("CallMcpTool: Data is not an object", request_id=envelope.request_id)
    content = data.get("content") or [{}]
    first = content[0] if isinstance(content, list) and isinstance(content[0], dict) else {}
    return ToolReply(envelope.request_id, str(first.get("text", "")), bool(data.get("isError")))


def call_tool(
    session_id: str, name: str, args: Mapping[str, Any], retry: RetryPolicy, **options: Any
) -> Op[ToolReply]:
    """Call MCP tool `name` in a session; `Args` is JSON, not ASCII-escaped, as the SDK sends it."""
    body = {
        "Args": json.dumps(dict(args), ensure_ascii=False),
        "AutoGenSession": False,
        "Name": name,
        "Server": "",
        "SessionId": session_id,
    }
    envelope = yield from call("CallMcpTool", body, retry, check_success=False, **options)
    return tool_reply(envelope)


def payload(text: str) -> Any:
    """A tool's text payload parsed as JSON when it is JSON, else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text
