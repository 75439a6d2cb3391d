"""Exceptions: one family for everything that can go wrong talking to AgentBay."""

from __future__ import annotations


class AgentBayError(Exception):
    """Base of every error this package raises about the service or the way to it.

    `code`, `request_id` and `http_status` are filled when the service said them.
    """

    def __init__(
        self, message: str, *, code: str = "", request_id: str = "", http_status: int = 0
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id
        self.http_status = http_status

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message}" if self.code else self.message
        return f"{text} (request id {self.request_id})" if self.request_id else text


class ApiError(AgentBayError):
    """The service answered with an error: HTTP 4xx/5xx, or HTTP 200 with `Success: false`."""


class ThrottlingError(ApiError):
    """The service asked us to slow down; `retry_after` is its hint in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class TransportError(AgentBayError):
    """No usable reply: the connection failed or dropped, timed out, or the reply was garbled.

    `sent` is False only when the request certainly never reached the server.
    """

    def __init__(self, message: str, *, sent: bool = True, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.sent = sent


class ProtocolError(TransportError):
    """A reply arrived but is not the AgentBay envelope (not JSON, wrong shape)."""
