"""Replay at the transport seam: an httpx transport that answers our own client from the deck.

vcrpy intercepts every HTTP library (the official SDK's traffic goes through it); our client
needs none of that. Given this transport, a request of our client costs the deck's lookup and
one `httpx.Response`: no conversion to and from vcrpy's request and response objects. A request
the deck does not answer (no tape in use, not an API call, or a tape that records) goes to the
wrapped transport, where vcrpy's patches see it as before.

Our client goes one step further: it asks `reply` with the call's fields before it URL-encodes
them and builds an httpx request, since encoding and httpx's client machinery (building,
sending, cookies, redirects) cost more than the lookup.
"""

from __future__ import annotations

import httpx

from ..protocol.codec import RawReply
from .deck import Deck, Route
from .scrub import Interaction


def _bytes(body: str | bytes) -> bytes:
    return body.encode() if isinstance(body, str) else body


class DeckTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Plays the deck's recorded replies; anything else goes on to `sync` or `async_`."""

    def __init__(
        self,
        deck: Deck,
        sync: httpx.BaseTransport | None = None,
        async_: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.deck, self._sync, self._async = deck, sync, async_

    def _play(self, route: Route | None) -> Interaction | None:
        return None if route is None else self.deck.play(route)

    def reply(self, params: dict[str, str]) -> RawReply | None:
        """The recorded reply to the API call with these query and form fields, as our client
        reads replies; None to send the request on; NoMatch on a replay miss. (Our client asks
        this first, before it encodes and builds a request.)"""
        interaction = self._play(self.deck.route_fields(params))
        if interaction is None:
            return None
        recorded = interaction["response"]
        headers = {name: values[-1] for name, values in recorded["headers"].items() if values}
        return RawReply(recorded["status"]["code"], headers, _bytes(recorded["body"]["string"]))

    def answer(self, request: httpx.Request) -> httpx.Response | None:
        """The recorded reply to `request`; None to send it on. NoMatch on a replay miss."""
        interaction = self._play(self.deck.route(request.method, str(request.url), request.content))
        if interaction is None:
            return None
        recorded = interaction["response"]
        headers = [
            (name, value) for name, values in recorded["headers"].items() for value in values
        ]
        return httpx.Response(
            recorded["status"]["code"],
            headers=headers,
            content=_bytes(recorded["body"]["string"]),
            request=request,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        reply = self.answer(request)
        if reply is not None:
            return reply
        if self._sync is None:
            self._sync = httpx.HTTPTransport(verify=False)
        return self._sync.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        reply = self.answer(request)
        if reply is not None:
            return reply
        if self._async is None:
            self._async = httpx.AsyncHTTPTransport(verify=False)
        return await self._async.handle_async_request(request)

    def close(self) -> None:
        if self._sync is not None:
            self._sync.close()

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.aclose()
