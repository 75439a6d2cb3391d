"""The two drivers that run every operation (`binding.operation` binds operations to them).

An operation is a generator that yields `Call` or `Sleep` effects and returns a result. The sync
driver performs effects with `httpx.Client` and `clock.sleep`; the async driver with
`httpx.AsyncClient` and `clock.asleep`. That is all that differs between `AgentBay` and
`AsyncAgentBay`: the facades declare each operation once, with `operation`.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, runtime_checkable

import httpx

from ..clock import SYSTEM_CLOCK, Clock
from ..protocol.calls import Op
from ..protocol.codec import Call, Failure, RawReply, Sleep, encode, fields
from ..redact import install_log_filter

T = TypeVar("T")


# Connection failures where the request certainly never reached the server: safe to retry.
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _step(op: Op[T], outcome: Any) -> tuple[bool, Any]:
    """Advance `op` with `outcome`: (True, result) when it is done, else (False, next effect)."""
    try:
        return False, op.send(outcome)
    except StopIteration as done:
        return True, done.value


def _is_loopback(base_url: str) -> bool:
    host = httpx.URL(base_url).host
    return host in ("localhost", "::1") or host.startswith("127.")


def _plain_transport(is_async: bool) -> httpx.HTTPTransport | httpx.AsyncHTTPTransport:
    """A transport for a plain-HTTP endpoint: httpx's default one loads the CA certificates
    (about 30 ms per client) though no TLS handshake will ever happen."""
    transport = httpx.AsyncHTTPTransport if is_async else httpx.HTTPTransport
    return transport(verify=False)


@runtime_checkable
class Answering(Protocol):
    """A transport that can answer our calls itself, before any httpx machinery runs (replay
    from cassettes: `cassette.seam.DeckTransport`); None means "send it as usual"."""

    def reply(self, params: dict[str, str]) -> RawReply | None:
        """The reply to the API call with these query and form fields, or None."""


Observer = Callable[[Call, "RawReply | Failure", float], None]


class _DriverBase:
    """What both drivers share: building the httpx request, and reading what came back.

    An `observer`, if given, sees every call with its outcome and duration in seconds (the
    plugin uses it for statistics and failure reports).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout_s: float,
        clock: Clock = SYSTEM_CLOCK,
        transport: Any = None,
    ) -> None:
        self.observer: Observer | None = None
        self.base_url = base_url
        self._api_key = api_key
        self.timeout_s = timeout_s
        self.clock = clock
        self._transport = transport
        # Proxy variables would send loopback traffic (the local backend) to a proxy.
        self._trust_env = not _is_loopback(base_url)
        self._answering = transport if isinstance(transport, Answering) else None
        install_log_filter()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    def _pool_transport(self, is_async: bool) -> Any:
        """The transport given; else, for a plain-HTTP endpoint, one that loads no CA bundle."""
        if self._transport is None and self.base_url.startswith("http://"):
            return _plain_transport(is_async)
        return self._transport

    def request(self, client: httpx.Client | httpx.AsyncClient, call: Call) -> httpx.Request:
        query, body, headers = encode(call, self._api_key)
        timeout = max(self.timeout_s, call.timeout_s or 0)
        return client.build_request(
            "POST", f"{self.base_url}/?{query}", content=body, headers=headers, timeout=timeout
        )

    def answered(self, call: Call) -> RawReply | None:
        """The transport's own answer to `call`, if it gives one (it skips httpx's client:
        building and sending a request through it costs more than a replayed reply)."""
        if self._answering is None:
            return None
        started = time.perf_counter()
        # (No URL encoding, timestamp or nonce: the call is never sent, and replay ignores
        # those two.)
        query, form, _ = fields(call, self._api_key, fresh=False)
        reply = self._answering.reply({**query, **form})
        if reply is not None and self.observer is not None:
            self.observer(call, reply, time.perf_counter() - started)
        return reply

    def outcome(
        self, call: Call, started: float, response: httpx.Response | httpx.TransportError
    ) -> RawReply | Failure:
        result: RawReply | Failure
        if isinstance(response, httpx.Response):
            result = RawReply(response.status_code, response.headers, response.content)
        else:
            sent = not isinstance(response, _UNSENT)
            result = Failure(type(response).__name__, str(response) or repr(response), sent)
        if self.observer is not None:
            self.observer(call, result, time.perf_counter() - started)
        return result


class SyncDriver(_DriverBase):
    """Runs operations to completion, blocking."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.http = httpx.Client(transport=self._pool_transport(False), trust_env=self._trust_env)

    def run(self, op: Op[T]) -> T:
        outcome: Any = None
        while True:
            done, effect = _step(op, outcome)
            if done:
                return effect  # type: ignore[no-any-return]
            if isinstance(effect, Sleep):
                self.clock.sleep(effect.seconds)
                outcome = None
            else:
                outcome = self._send(effect)

    def _send(self, call: Call) -> RawReply | Failure:
        answer = self.answered(call)
        if answer is not None:
            return answer
        started = time.perf_counter()
        try:
            return self.outcome(call, started, self.http.send(self.request(self.http, call)))
        except httpx.TransportError as error:
            return self.outcome(call, started, error)

    def close(self) -> None:
        self.http.close()


class AsyncDriver(_DriverBase):
    """Runs operations as coroutines, in whichever event loop awaits them.

    Connections belong to the loop that opened them, so the driver keeps one connection pool
    per loop: a client made in one loop (a fixture's) also works in another (the test's), as
    pytest-asyncio's loop scopes make happen.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def http(self) -> httpx.AsyncClient:
        """The connection pool of the running event loop (made on first use in that loop)."""
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            pool = httpx.AsyncClient(
                transport=self._pool_transport(True), trust_env=self._trust_env
            )
            self._pools[loop] = pool
        return pool

    async def run(self, op: Op[T]) -> T:
        outcome: Any = None
        while True:
            done, effect = _step(op, outcome)
            if done:
                return effect  # type: ignore[no-any-return]
            wait = (
                self.clock.asleep(effect.seconds)
                if isinstance(effect, Sleep)
                else self._send(effect)
            )
            outcome = await wait

    async def _send(self, call: Call) -> RawReply | Failure:
        answer = self.answered(call)
        if answer is not None:
            return answer
        started = time.perf_counter()
        try:
            response = await self.http.send(self.request(self.http, call))
            return self.outcome(call, started, response)
        except httpx.TransportError as error:
            return self.outcome(call, started, error)

    async def close(self) -> None:
        """Close the running loop's pool, and those of loops that are not running now."""
        current = self._pools.pop(asyncio.get_running_loop(), None)
        if current is not None:
            await current.aclose()
        self.close_idle()

    def close_idle(self) -> None:
        """Close the pools of event loops that are open but not running (from outside any
        loop, or from another one); forget those of closed loops, whose sockets died with
        them. Pools of loops running now stay open; so do all open ones when called inside a
        running loop (another loop cannot run from within it)."""
        try:
            asyncio.get_running_loop()
            inside = True
        except RuntimeError:
            inside = False
        for loop, pool in list(self._pools.items()):
            if loop.is_closed():
                del self._pools[loop]
            elif not loop.is_running() and not inside:
                del self._pools[loop]
                loop.run_until_complete(pool.aclose())
