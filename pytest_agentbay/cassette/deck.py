"""The deck: the stack of tapes in use, routing each request to the top one (a test's, or a
wider fixture scope's while it sets up or tears down), with volatile parts matched loosely."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, NamedTuple

from . import files
from .keys import Key, Params, describe, match_key, request_params
from .scrub import Interaction, Scrubber
from .tape import Tape, session_created
from .volatile import Blank, Declared, Loosener, compile_declared, random_parts


class Route(NamedTuple):
    """Where one API request goes."""

    tape: Tape
    key: Key
    params: Params


class Deck:
    """The stack of tapes in use; the top one gets the requests. Thread-safe."""

    def __init__(self, scrubber: Scrubber) -> None:
        self.scrubber = scrubber
        self._stack: list[Tape] = []
        self._lock = threading.Lock()
        self.misses: list[str] = []
        self.loose: list[str] = []  # requests replayed despite volatile parts, since taken
        self.before_request: Callable[[], None] | None = None  # called as a tape gets one
        self.declared: list[Blank] = []  # volatile parts of the whole run (ini)
        self.declared_here: list[Blank] = []  # and of the current test
        self._looseners: list[tuple[Loosener, str]] = []

    def enter(self, tape: Tape) -> None:
        """`tape` gets the requests until `leave(tape)`."""
        with self._lock:
            self._stack.append(tape)

    def leave(self, tape: Tape) -> None:
        """Undo the latest `enter(tape)`."""
        with self._lock:
            for index in range(len(self._stack) - 1, -1, -1):
                if self._stack[index] is tape:
                    del self._stack[index]
                    return

    def route(self, method: str, uri: str, body: Any) -> Route | None:
        """The tape and key for an API request; None for other traffic, or with no tape."""
        with self._lock:
            in_use = bool(self._stack)
        return self.route_fields(request_params(method, uri, body)) if in_use else None

    def route_fields(self, params: Params | None) -> Route | None:
        """`route` for a request already split into its query and form fields."""
        with self._lock:
            tape = self._stack[-1] if self._stack else None
        if tape is None or params is None:
            return None
        if self.before_request is not None:
            self.before_request()
        params = self.scrubber.params(params)
        return Route(tape, match_key(params), params)

    def play(self, route: Route) -> Interaction | None:
        """The recorded interaction for `route`; None to send it live; NoMatch on a miss."""
        with self._lock:
            interaction = route.tape.play(route.key)
            if interaction is None and route.tape.mode == "replay":
                interaction = self._play_loose(route)
            if interaction is None and route.tape.mode == "replay":
                error = route.tape.miss(route.key, route.params)
                self.misses.append(str(error))
                raise error
        return interaction

    def volatile(self, declared: Declared, whole_run: bool = False) -> None:
        """Declare a volatile part of requests for the current test (or `whole_run`)."""
        blank = compile_declared(declared)
        with self._lock:
            (self.declared if whole_run else self.declared_here).append(blank)
            self._looseners = []

    def end_test(self) -> None:
        """Forget the current test's volatile parts."""
        with self._lock:
            if self.declared_here:
                self.declared_here = []
                self._looseners = []

    def _play_loose(self, route: Route) -> Interaction | None:
        if not self._looseners:
            declared = self.declared + self.declared_here
            if declared:
                self._looseners.append((Loosener(declared, auto=False), "declared volatile"))
            self._looseners.append((Loosener(declared, auto=True), "random-looking"))
        for loosen, why in self._looseners:
            found = route.tape.play_loose(route.key, loosen)
            if found is not None:
                self.loose.append(_loose_note(route, files.key_of(found), why))
                return found
        return None

    def record(self, route: Route, request: dict[str, Any], response: dict[str, Any]) -> None:
        """Scrub a live interaction and keep it on the route's tape."""
        if route.params.get("Action") == "CreateMcpSession":
            session_id = session_created(self.scrubber.body_text(response))
            if session_id:
                self.scrubber.alias(session_id, route.tape.name, route.tape.created)
        stored = {
            "request": self.scrubber.request(**request),
            "response": self.scrubber.response(response),
        }
        with self._lock:
            route.tape.record(files.key_of(stored), stored)

    def take_misses(self) -> list[str]:
        """The miss messages since the last call."""
        with self._lock:
            misses, self.misses = self.misses, []
        return misses

    def take_loose(self) -> list[str]:
        """What was replayed despite volatile parts since the last call, one line each."""
        with self._lock:
            loose, self.loose = self.loose, []
        return loose


def _loose_note(route: Route, recorded: Key, why: str) -> str:
    """One line for the report: which request was replayed for which, and why."""
    live, then = dict(route.key), dict(recorded)
    differ = sorted(n for n in live.keys() | then.keys() if live.get(n) != then.get(n))
    if why == "random-looking":
        shapes = sorted({s for n in differ for s in random_parts(live.get(n, ""))})
        why = f"values that look random ({', '.join(shapes) or 'by their shape'})"
    else:
        why = "parts declared volatile"
    return (
        f"{route.tape.label}: replayed {describe(route.params)} with the reply recorded for"
        f" it; they differ only in {why}, in {', '.join(differ)}"
    )
