"""Operations declared once: the `operation` descriptor, which runs a method's operation on the
driver of the object it is called on (sync: the result; async: a coroutine)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from ..models.modes import Async, M, Sync
from ..protocol.calls import Op
from .drivers import AsyncDriver, SyncDriver

P = ParamSpec("P")
T = TypeVar("T")


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
