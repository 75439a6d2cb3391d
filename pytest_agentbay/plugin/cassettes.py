"""The one module that imports vcrpy: a cassette that hands AgentBay traffic to the deck, and
a guard that keeps AgentBay traffic out of every other vcrpy cassette.

vcrpy patches httpx, requests/urllib3 and aiohttp (so the official SDK is covered too) and
asks its cassette what to do with each request. Ours asks the deck, which finds the reply by
match key in constant time, instead of vcrpy's scan of every recorded request. Traffic that is
not an AgentBay API call, or that comes when no tape is in use, goes out untouched.

Another vcrpy user (pytest-recording's `@pytest.mark.vcr`, a `vcr.use_cassette` block) patches
the same libraries on top of ours, and its cassette is then the one asked. The guard makes every
cassette but ours hand AgentBay API calls to our router (or, in a live run without recording,
let them through unrecorded), so the key never reaches a file we did not scrub.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any
from unittest import mock

from vcr.cassette import Cassette
from vcr.patch import CassettePatcherBuilder
from vcr.record_mode import RecordMode

from ..cassette.deck import Deck, Route
from ..cassette.keys import request_params

_ROUTE = "_agentbay_route"
_REPLY = "_agentbay_reply"
_API = "_agentbay_api_call"
_CHECKED = "_agentbay_write_check"


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
    """Patch the HTTP libraries to go through `deck` until the returned stack is closed; other
    vcrpy cassettes hand AgentBay API calls to it meanwhile."""
    router = Router(deck)
    stack = contextlib.ExitStack()
    for patcher in CassettePatcherBuilder(router).build():
        stack.enter_context(patcher)
    GUARD.install()
    GUARD.router = router
    stack.callback(GUARD.uninstall)
    stack.callback(setattr, GUARD, "router", None)
    return stack


class Guard:
    """Patches vcrpy's `Cassette` so that a cassette other than ours never plays or records an
    AgentBay API call: our router does, when there is one; else the call goes out unrecorded."""

    def __init__(self) -> None:
        self.router: Router | None = None
        self._stack: contextlib.ExitStack | None = None

    @property
    def installed(self) -> bool:
        """Whether `Cassette` is patched."""
        return self._stack is not None

    def install(self) -> None:
        """Patch `Cassette` (once) until `uninstall`."""
        if self._stack is not None:
            return
        self._stack = contextlib.ExitStack()
        for name, wrap in _WRAPPERS.items():
            patched = wrap(self, getattr(Cassette, name))
            self._stack.enter_context(mock.patch.object(Cassette, name, patched))

    def uninstall(self) -> None:
        """Give `Cassette` its own methods back."""
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()

    def __call__(self, cassette: Any, request: Any) -> bool:
        """Whether `request` is an AgentBay API call that `cassette` must leave to us."""
        if isinstance(cassette, Router):
            return False
        if _API not in request.__dict__:
            params = request_params(request.method, request.uri, request.body)
            request.__dict__[_API] = params is not None
        return bool(request.__dict__[_API])


def _can_play(guard: Guard, original: Callable[..., Any]) -> Callable[..., Any]:
    def can_play_response_for(self: Any, request: Any) -> bool:
        if not guard(self, request):
            return bool(original(self, request))
        return guard.router is not None and guard.router.can_play_response_for(request)

    return can_play_response_for


def _play(guard: Guard, original: Callable[..., Any]) -> Callable[..., Any]:
    def play_response(self: Any, request: Any) -> Any:
        if guard(self, request) and guard.router is not None:
            return guard.router.play_response(request)
        return original(self, request)

    return play_response


def _filter(guard: Guard, original: Callable[..., Any]) -> Callable[..., Any]:
    def filter_request(self: Any, request: Any) -> Any:
        if not guard(self, request):
            return original(self, request)
        # vcrpy asks `write_protected and filter_request(r)` before sending, to refuse new
        # traffic: ours is not this cassette's to refuse. (aiohttp asks again after sending,
        # whether to record: yes, into our router.)
        if self.write_protected and not request.__dict__.get(_CHECKED):
            request.__dict__[_CHECKED] = True
            return None
        return request

    return filter_request


def _append(guard: Guard, original: Callable[..., Any]) -> Callable[..., Any]:
    def append(self: Any, request: Any, response: Any) -> None:
        if not guard(self, request):
            original(self, request, response)
        elif guard.router is not None:
            guard.router.append(request, response)

    return append


_WRAPPERS = {
    "can_play_response_for": _can_play,
    "play_response": _play,
    "filter_request": _filter,
    "append": _append,
}
GUARD = Guard()  # one per process, as vcrpy's Cassette class is
