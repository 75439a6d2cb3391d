"""Encoding requests and decoding replies exactly as the AgentBay POP API speaks (no I/O).

Requests: `POST /` with the common query (Action, Format, Version, Timestamp, SignatureNonce), a
sorted form body with Python-style values, and the key as the form field
`Authorization=Bearer <key>`. Replies: a JSON envelope, with errors on two channels (HTTP 4xx/5xx
with a JSON body, or HTTP 200 with `Success: false`). This module is the one place that turns a
wire error into an exception.
"""

from __future__ import annotations

import functools
import json
import platform
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .._version import __version__
from ..errors import ApiError, ProtocolError, ThrottlingError

API_VERSION = "2025-05-06"
USER_AGENT = (
    f"AlibabaCloud ({platform.system()}; {platform.machine()}) "
    f"Python/{platform.python_version()} pytest-agentbay/{__version__} TeaDSL/2"
)


@dataclass(frozen=True)
class Call:
    """Effect: "call this action with these parameters". The driver adds the key."""

    action: str
    body: Mapping[str, Any] = field(default_factory=dict)
    query: Mapping[str, Any] = field(default_factory=dict)
    auth_in_query: bool = False  # SyncContext carries Authorization in the query string
    timeout_s: float | None = None  # a longer read timeout (long-running commands)


@dataclass(frozen=True)
class Sleep:
    """Effect: "wait this many seconds" (on the driver's clock, so it can be virtual)."""

    seconds: float


@dataclass(frozen=True)
class RawReply:
    """What came back over HTTP."""

    status: int
    headers: Mapping[str, str]
    content: bytes


@dataclass(frozen=True)
class Failure:
    """No reply. `sent` is False only when the request certainly never left (connect failed)."""

    kind: str
    detail: str
    sent: bool


@dataclass(frozen=True)
class Envelope:
    """A successful reply: the common fields and `Data`; `body` keeps the top level (NextToken)."""

    request_id: str
    code: str
    message: str
    http_status_code: int
    data: Any
    body: Mapping[str, Any]


def fields(
    call: Call, api_key: str, now: datetime | None = None, *, fresh: bool = True
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The query fields, form fields and headers of `call`, before URL encoding. `fresh=False`
    leaves out the timestamp and nonce: for a call answered from a recording, never sent."""
    auth = {"Authorization": f"Bearer {api_key}"}
    query: dict[str, Any] = {"Action": call.action, "Format": "json", "Version": API_VERSION}
    if fresh:
        query["Timestamp"] = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
        query["SignatureNonce"] = uuid.uuid4().hex
    query.update(call.query)
    if call.auth_in_query:
        query.update(auth)
    body = dict(call.body) if call.auth_in_query else {**call.body, **auth}
    headers = {
        "x-acs-version": API_VERSION,
        "x-acs-action": call.action,
        "user-agent": USER_AGENT,
        "content-type": "application/x-www-form-urlencoded",
    }
    # Values as the official SDK renders them: `str()` gives `True`/`False` and decimal ints.
    # JSON-in-a-field values (Labels, Args) arrive already serialised by their operation,
    # because the two differ in ASCII escaping.
    as_text = {k: str(v) for k, v in query.items()}, {k: str(v) for k, v in body.items()}
    return as_text[0], as_text[1], headers


def encode(
    call: Call, api_key: str, now: datetime | None = None
) -> tuple[str, bytes, dict[str, str]]:
    """The query string, form body and headers for `call`."""
    query, body, headers = fields(call, api_key, now)
    return urlencode(query.items()), urlencode(sorted(body.items())).encode(), headers


_UNSAFE = re.compile(r"([^A-Za-z0-9_.~ \-]+)")  # what `quote_plus` escapes (and space)


@functools.lru_cache(maxsize=4096)
def _escaped(run: str) -> str:
    return "%" + run.encode().hex("%").upper()


def quote_plus(text: str) -> str:
    """`urllib.parse.quote_plus(text)`, 2x faster on a file chunk: that one looks up each byte
    in Python; here a C regex splits out the runs to escape, and the common ones are cached."""
    parts = _UNSAFE.split(text)
    parts[1::2] = map(_escaped, parts[1::2])
    return "".join(parts).replace(" ", "+")


def urlencode(pairs: Iterable[tuple[str, str]]) -> str:
    """`urllib.parse.urlencode(pairs)` for string pairs."""
    return "&".join(f"{quote_plus(name)}={quote_plus(value)}" for name, value in pairs)


def as_dict(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one (replies may omit or garble a field)."""
    return value if isinstance(value, dict) else {}


def text(body: Mapping[str, Any], *names: str) -> str:
    """The first present field among `names`, as a string ("" when none is)."""
    for name in names:
        if body.get(name) not in (None, ""):
            return str(body[name])
    return ""


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """The service's throttling hint in seconds; the header counts milliseconds, as the SDK's
    core library reads it."""
    try:
        value = float(headers.get("x-acs-retry-after", ""))
    except ValueError:
        return None
    return value / 1000 if value > 0 else None


def _json_object(action: str, reply: RawReply) -> dict[str, Any]:
    """The reply body as a JSON object, or the ProtocolError that says it is not one."""
    try:
        body = json.loads(reply.content or b"null")
    except ValueError:
        snippet = reply.content[:120].decode("utf-8", "replace")
        raise ProtocolError(
            f"{action}: HTTP {reply.status} reply is not JSON: {snippet!r}",
            http_status=reply.status,
        ) from None
    if not isinstance(body, dict):
        raise ProtocolError(
            f"{action}: HTTP {reply.status} reply is not a JSON object", http_status=reply.status
        )
    return body


def _status_code(body: dict[str, Any], default: int) -> int:
    value = body.get("HttpStatusCode", default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def decode(action: str, reply: RawReply, *, check_success: bool = True) -> Envelope:
    """The envelope of `reply`, or the exception that says what went wrong."""
    body = _json_object(action, reply)
    request_id = text(body, "RequestId", "requestId")
    code = text(body, "Code", "code")
    message = text(body, "Message", "message") or text(body, "Description", "description")
    retry_after = _retry_after(reply.headers)
    if retry_after or code.startswith("Throttling"):
        raise ThrottlingError(
            message or "throttled",
            retry_after=retry_after,
            code=code,
            request_id=request_id,
            http_status=reply.status,
        )
    status_code = _status_code(body, reply.status)
    if reply.status >= 400 or (check_success and body.get("Success") is False):
        fallback = f"{action} did not succeed"
        if reply.status >= 400:
            fallback = f"HTTP {reply.status} from {action}"
        raise ApiError(
            message or fallback,
            code=code,
            request_id=request_id,
            # a refusal's own HttpStatusCode says more than the HTTP 200 it came in
            http_status=reply.status if reply.status >= 400 else status_code,
        )
    return Envelope(
        request_id=request_id,
        code=code,
        message=message,
        http_status_code=status_code,
        data=body.get("Data"),
        body=body,
    )
