"""Clocks: time is I/O, so waits go through a clock that tests and replay can make virtual."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import ClassVar, Protocol


class Clock(Protocol):
    """What polling loops and the emulator need from time."""

    def now(self) -> float:
        """Seconds on a monotonic scale."""

    def sleep(self, seconds: float) -> None:
        """Block for `seconds`."""

    async def asleep(self, seconds: float) -> None:
        """Wait for `seconds` without blocking the event loop."""


class SystemClock:
    """Real time: `time.monotonic`, `time.sleep` and `asyncio.sleep`.

    There is one system clock: `SystemClock()` returns it. A replayed test makes real waits
    virtual by patching that one clock, so the patch reaches every client using real time,
    including one given `clock=SystemClock()`.
    """

    _the: ClassVar[SystemClock | None] = None

    def __new__(cls) -> SystemClock:
        if cls is not SystemClock:  # a subclass is a clock of its own
            return super().__new__(cls)
        if SystemClock._the is None:
            SystemClock._the = super().__new__(cls)
        return SystemClock._the

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(seconds, 0.0))

    async def asleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


class VirtualClock:
    """Time that passes only when somebody sleeps: polling runs at once, deterministically.

    Share one instance between a client and an in-process emulator and they agree on the time.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.slept = 0.0  # total seconds waited, for assertions

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds`."""
        with self._lock:
            self._now += max(seconds, 0.0)
            self.slept += max(seconds, 0.0)

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    async def asleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)  # still yield, so other tasks run as they would


SYSTEM_CLOCK = SystemClock()
