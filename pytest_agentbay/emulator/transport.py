"""In-process way in: an httpx transport (sync and async) that hands requests to the emulator."""

from __future__ import annotations

import anyio
import anyio.to_thread
import httpx

from .core import Emulator
from .endpoints import route
from .reply import Reply


class EmulatorTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Serve `httpx.Client` and `httpx.AsyncClient` from one emulator, without a socket.

    The async path runs the blocking core in worker threads (up to `max_threads` at once), so
    concurrent commands from `asyncio.gather` really overlap, as they do against the service.
    """

    def __init__(self, emulator: Emulator | None = None, *, max_threads: int = 256) -> None:
        self._owned = emulator is None  # an emulator made here is closed here
        self.emulator = emulator if emulator is not None else Emulator()
        self._limiter = anyio.CapacityLimiter(max_threads)

    def _respond(self, request: httpx.Request, body: bytes) -> httpx.Response:
        reply = self._reply(request, body)
        return httpx.Response(
            reply.status, headers=reply.all_headers(), content=reply.content(), request=request
        )

    def _reply(self, request: httpx.Request, body: bytes) -> Reply:
        query = request.url.query.decode("ascii", errors="replace")
        return route(self.emulator, request.method, request.url.path, query,
                     request.headers.get("Authorization"), body)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer a request of a sync client."""
        return self._respond(request, request.read())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer a request of an async client, off the event loop."""
        body = await request.aread()
        return await anyio.to_thread.run_sync(
            self._respond, request, body, limiter=self._limiter
        )

    def close(self) -> None:
        """Close the emulator if this transport made it (a given one stays with its owner)."""
        if self._owned:
            self.emulator.close()

    async def aclose(self) -> None:
        """As `close`, off the event loop."""
        if self._owned:
            await anyio.to_thread.run_sync(self.emulator.close)
