"""The two drivers that run every operation, and the descriptor that binds operations to them.

An operation is a generator that yields `Call` or `Sleep` effects and returns a result. The sync
driver performs effects with `httpx.Client` and `clock.sleep`; the async driver with
`httpx.AsyncClient` and `clock.asleep`. That is all that differs between `AgentBay` and
`AsyncAgentBay`: the facades declare each operation once, with `operation`.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

import httpx

from ..clock import SYSTEM_CLOCK, Clock
from ..models.modes import Async, M, Sync
from ..protocol.calls import Op
from ..protocol.codec import Call, Failure, RawReply, Sleep, encode
from ..redact import install_log_filter

P = ParamSpec("P")
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


Observer = Callable[[Call, "RawReply | Failure", float], None]


class _DriverBase:
    """What both drivers share: building the httpx request, and reading what came back.

    An `observer`, if given, sees every call with its outcome and duration in seconds (the
    plugin uses it for statistics and failure reports).
    """

    http: httpx.Client | httpx.AsyncClient

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
        # Proxy variables would send loopback traffic (the local backend) to a proxy.
        http_class = httpx.AsyncClient if isinstance(self, AsyncDriver) else httpx.Client
        self.http = http_class(transport=transport, trust_env=not _is_loopback(base_url))
        install_log_filter()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    def request(self, client: httpx.Client | httpx.AsyncClient, call: Call) -> httpx.Request:
        query, body, headers = encode(call, self._api_key)
        timeout = max(self.timeout_s, call.timeout_s or 0)
        return client.build_request(
            "POST", f"{self.base_url}/?{query}", content=body, headers=headers, timeout=timeout
        )

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

    http: httpx.Client

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
        started = time.perf_counter()
        try:
            return self.outcome(call, started, self.http.send(self.request(self.http, call)))
        except httpx.TransportError as error:
            return self.outcome(call, started, error)

    def close(self) -> None:
        self.http.close()


class AsyncDriver(_DriverBase):
    """Runs operations as coroutines."""

    http: httpx.AsyncClient

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
        started = time.perf_counter()
        try:
            response = await self.http.send(self.request(self.http, call))
            return self.outcome(call, started, response)
        except httpx.TransportError as error:
            return self.outcome(call, started, error)

    async def close(self) -> None:
        await self.http.aclose()


class Bound(Generic[M]):
    """Anything whose methods run on a driver: the clients, sessions and their services."""

    _driver: SyncDriver | AsyncDriver


class operation(Generic[P, T]):
    """Declare a method once; it returns `T` on a sync object and a coroutine on an async one.

    The decorated function returns the operation (a generator); the driver of the object runs it.
    """

    def __init__(self, build: Callable[Concatenate[Any, P], Op[T]]) -> None:
        self._build = build
        self.__doc__ = build.__doc__
        signature = inspect.signature(build)
        self._signature = signature.replace(
            parameters=list(signature.parameters.values())[1:],
            return_annotation=inspect.Signature.empty,
        )
        self._name = build.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, obj: None, owner: type) -> operation[P, T]: ...
    @overload
    def __get__(self, obj: Bound[Sync], owner: type) -> Callable[P, T]: ...
    @overload
    def __get__(self, obj: Bound[Async], owner: type) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(self, obj: Any, owner: type) -> Any:
        if obj is None:
            return self
        bind = _bind_async if isinstance(obj._driver, AsyncDriver) else _bind_sync
        method = bind(self._build, obj)
        method.__name__ = method.__qualname__ = self._name
        method.__doc__ = self.__doc__
        method.__signature__ = self._signature  # type: ignore[attr-defined]
        obj.__dict__[self._name] = method  # cache: later lookups skip the descriptor
        return method


def _bind_sync(build: Callable[..., Op[Any]], obj: Any) -> Callable[..., Any]:
    def method(*args: Any, **kwargs: Any) -> Any:
        return obj._driver.run(build(obj, *args, **kwargs))

    return method


def _bind_async(build: Callable[..., Op[Any]], obj: Any) -> Callable[..., Any]:
    async def method(*args: Any, **kwargs: Any) -> Any:
        return await obj._driver.run(build(obj, *args, **kwargs))

    return method
