"""Shared pieces of operations: the context they run in, input checks, and failure guarding."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, Protocol, TypeVar

from ..errors import AgentBayError
from ..models.results import ApiResult
from .calls import Op, RetryPolicy

P = ParamSpec("P")
R = TypeVar("R", bound=ApiResult)


class Context(Protocol):
    """What operations need from the client that runs them."""

    retry: RetryPolicy
    region_id: str


def guarded(doing: str, result: type[R]) -> Callable[[Callable[P, Op[R]]], Callable[P, Op[R]]]:
    """Turn AgentBayErrors raised while `doing` into a failed `result`, as the SDK reports them.

    Input errors (ValueError) still raise: they are the caller's to fix, before any request.
    """

    def wrap(operation: Callable[P, Op[R]]) -> Callable[P, Op[R]]:
        @functools.wraps(operation)
        def run(*args: P.args, **kwargs: P.kwargs) -> Op[R]:
            try:
                return (yield from operation(*args, **kwargs))
            except AgentBayError as error:
                return result.failed(error, doing)

        return run

    return wrap


def require_id(value: Any, what: str = "session_id") -> str:
    """`value` if it is a non-blank string, else ValueError."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} is required: a non-empty string, got {value!r}")
    return value


def require_positive(value: Any, what: str) -> None:
    """ValueError unless `value` is a positive number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"{what} must be a positive number, got {value!r}")
