"""The one module that imports vcrpy: a cassette that hands AgentBay traffic to the deck.

vcrpy patches httpx, requests/urllib3 and aiohttp (so the official SDK is covered too) and
asks its cassette what to do with each request. Ours asks the deck, which finds the reply by
match key in constant time, instead of vcrpy's scan of every recorded request. Traffic that is
not an AgentBay API call, or that comes when no tape is in use, goes out untouched.
"""

from __future__ import annotations

import contextlib
from typing import Any

from vcr.cassette import Cassette
from vcr.patch import CassettePatcherBuilder
from vcr.record_mode import RecordMode

from ..cassette.tape import Deck, Route

_ROUTE = "_agentbay_route"
_REPLY = "_agentbay_reply"


class Router(Cassette):  # type: ignore[misc]
    """A vcrpy cassette whose answers come from the deck's tape in use."""

    def __init__(self, deck: Deck) -> None:
        super().__init__("agentbay", record_mode=RecordMode.NEW_EPISODES)
        self.deck = deck

    def _route(self, request: Any) -> Route | None:
        if _ROUTE not in request.__dict__:
            route = self.deck.route(request.method, request.uri, request.body)
            request.__dict__[_ROUTE] = route
        route = request.__dict__[_ROUTE]
        return route if isinstance(route, Route) else None

    def can_play_response_for(self, request: Any) -> bool:
        route = self._route(request)
        if route is None:
            return False
        if _REPLY not in request.__dict__:
            request.__dict__[_REPLY] = self.deck.play(route)
        return request.__dict__[_REPLY] is not None

    def __contains__(self, request: Any) -> bool:
        return self.can_play_response_for(request)

    def play_response(self, request: Any) -> dict[str, Any]:
        self.can_play_response_for(request)
        recorded = request.__dict__.pop(_REPLY)["response"]
        body = recorded["body"]["string"]
        return {  # a copy: vcrpy's stubs edit what they are given
            "status": dict(recorded["status"]),
            "headers": {name: list(values) for name, values in recorded["headers"].items()},
            "body": {"string": body.encode() if isinstance(body, str) else body},
        }

    @property
    def write_protected(self) -> bool:
        return False  # a request the deck does not answer goes out (or the deck raised)

    def filter_request(self, request: Any) -> Any:
        return request

    def append(self, request: Any, response: dict[str, Any]) -> None:
        route = self._route(request)
        if route is not None:
            parts = {
                "method": request.method,
                "uri": request.uri,
                "body": request.body,
                "headers": request.headers,
            }
            self.deck.record(route, parts, response)

    def find_requests_with_most_matches(self, request: Any) -> list[Any]:
        return []

    def _save(self, force: bool = False) -> None:
        pass  # the deck's tapes are saved by the plugin, at the end of each test


def install(deck: Deck) -> contextlib.ExitStack:
    """Patch the HTTP libraries to go through `deck` until the returned stack is closed."""
    stack = contextlib.ExitStack()
    for patcher in CassettePatcherBuilder(Router(deck)).build():
        stack.enter_context(patcher)
    return stack
