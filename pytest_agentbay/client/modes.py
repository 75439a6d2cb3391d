"""The two ways an object can run operations: `Sync` returns results, `Async` returns coroutines."""

from typing import TypeVar


class Sync:
    """Marker: methods return results."""


class Async:
    """Marker: methods return coroutines of results."""


M = TypeVar("M", Sync, Async)
