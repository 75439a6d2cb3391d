"""The two ways an object can run operations: `Sync` returns results, `Async` returns coroutines.

Plain marker types, so result models can be generic over the mode without knowing the client.
"""

from typing import TypeVar


class Sync:
    """Marker: methods return results."""


class Async:
    """Marker: methods return coroutines of results."""


M = TypeVar("M", Sync, Async)
