"""A scripted fake AgentBay service over respx, and clients of both kinds pointed at it."""

from __future__ import annotations

import inspect
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import respx

from pytest_agentbay import AgentBay, AsyncAgentBay, Config, RetryPolicy, VirtualClock
from tests.differential.replies import ok

ENDPOINT = "http://agentbay.test"
KEY = "akm-0123456789abcdef"


@dataclass
class Seen:
    """One request as the fake service saw it."""

    action: str
    query: dict[str, str]
    form: dict[str, str]
    headers: httpx.Headers
    raw_body: bytes


def envelope(data: Any = None, request_id: str = "REQ-1", **top: Any) -> dict[str, Any]:
    """A success reply in the real envelope (the body the differential catalogue's `ok` sends)."""
    body: dict[str, Any] = ok(data, rid=request_id, **top)["body"]
    return body


def tool(payload: Any, is_error: bool = False, as_string: bool = False) -> dict[str, Any]:
    """A CallMcpTool reply carrying `payload` (JSON-encoded unless already text)."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    data: Any = {"content": [{"type": "text", "text": text}], "isError": is_error}
    return envelope(json.dumps(data) if as_string else data)


def error(code: str, message: str, status: int = 400, **headers: str) -> httpx.Response:
    """An HTTP-level error reply."""
    body = {"RequestId": "REQ-ERR", "Code": code, "Message": message}
    return httpx.Response(status, json=body, headers=headers)


@dataclass
class FakeService:
    """Replies per action, in order (the last one repeats); every request is recorded."""

    replies: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    seen: list[Seen] = field(default_factory=list)

    def on(self, action: str, *replies: Any) -> None:
        self.replies[action].extend(replies)

    def actions(self) -> list[str]:
        return [s.action for s in self.seen]

    def last(self, action: str) -> Seen:
        return [s for s in self.seen if s.action == action][-1]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        query = dict(httpx.QueryParams(request.url.query))
        form = dict(httpx.QueryParams(request.content.decode()))
        action = query["Action"]
        self.seen.append(Seen(action, query, form, request.headers, request.content))
        queue = self.replies.get(action)
        if not queue:
            return error("InvalidAction.NotFound", f"no reply scripted for {action}", 404)
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        return reply if isinstance(reply, httpx.Response) else httpx.Response(200, json=reply)


@pytest.fixture
def service() -> Iterator[FakeService]:
    fake = FakeService()
    with respx.mock(base_url=ENDPOINT, assert_all_called=False) as router:
        router.post("/").mock(side_effect=fake)
        yield fake


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture(params=["sync", "async"])
def client(request: pytest.FixtureRequest, service: FakeService, clock: VirtualClock) -> Any:
    """An AgentBay or an AsyncAgentBay on the fake service, with a virtual clock."""
    kind = AgentBay if request.param == "sync" else AsyncAgentBay
    return kind(api_key=KEY, cfg=Config(ENDPOINT), clock=clock, retry=RetryPolicy(attempts=3))


async def resolve(value: Any) -> Any:
    """Await `value` if the client was async; tests read the same for both clients."""
    return await value if inspect.isawaitable(value) else value
