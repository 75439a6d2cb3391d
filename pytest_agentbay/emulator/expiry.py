"""Sessions the service releases by itself: idle and runtime limits, and the one reaper's rules.

CreateMcpSession carries the limits as the official SDK 0.22.3 sends them (protocol 3.1, and
its open question 7 on units). Our reading, written down in the README:

* `Timeout` alone is the legacy `idle_release_timeout`, in seconds (the SDK documents it so).
* `Timeout` with `MaxRuntime` comes from a `LifecyclePolicy`, whose values are minutes: idle
  minutes, and minutes from creation after which the session ends however busy it is.
* `ManualRelease=True`: never released by the service; no field at all: the same.

Activity is any call naming the session (its `SessionId`) with the caller's key, when it
arrives and again when it ends, so a command longer than the idle time never loses its
session; `RefreshSessionIdleTime` (the SDK's `keep_alive()`) is such a call and nothing more.
A released session is FINISH at once, its sandbox killed, with the EndReason `IdleTimeout` or
`MaxRuntime` (the emulator's words). `Deadlines` is plain data: `state.Store` holds its lock
while calling it, on every request (an O(1) look at the soonest deadline) and from `Sweeper`.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..protocol.lifecycle import Status
from .form import Params, int_param
from .records import SandboxLike, SessionRecord

log = logging.getLogger(__name__)
MINUTE = 60.0
LONGEST = 10**7  # the largest Timeout or MaxRuntime accepted (about four months of seconds)
SWEEP_SECONDS = 0.25  # how often a server looks for sessions come due with no request arriving
IDLE, RUNTIME = "IdleTimeout", "MaxRuntime"  # the EndReason of a session the service released
ENDED = (Status.FINISH, Status.DELETING, Status.DELETED)  # nothing left to release


@dataclass(frozen=True)
class Expiry:
    """When a session releases itself: after `idle` seconds without a call naming it, or
    `runtime` seconds after creation (0: never)."""

    idle: float = 0.0
    runtime: float = 0.0


def expiry_of(params: Params) -> Expiry:
    """The limits CreateMcpSession asks for (see the module docstring for the units)."""
    if params.get("ManualRelease", "").strip().lower() == "true":
        return Expiry()
    runtime = int_param(params, "MaxRuntime", 0, 1, LONGEST)
    idle = int_param(params, "Timeout", 0, 1, LONGEST)
    return Expiry(idle * (MINUTE if runtime else 1.0), runtime * MINUTE)


def due_at(record: SessionRecord) -> float | None:
    """When `record` is next due for release if nothing touches it (None: never)."""
    times = []
    if record.idle_seconds:
        times.append(record.active_at + record.idle_seconds)
    if record.runtime_seconds:
        times.append(record.created_at + record.runtime_seconds)
    return min(times) if times else None


def _reason(record: SessionRecord, now: float) -> str | None:
    if record.runtime_seconds and now >= record.created_at + record.runtime_seconds:
        return RUNTIME
    if record.idle_seconds and not record.calls and now >= record.active_at + record.idle_seconds:
        return IDLE
    return None


class Deadlines:
    """Sessions that release themselves, soonest due first. A call moves a session's due time
    without touching the heap: an entry found early is put back at the session's due time."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, SessionRecord]] = []
        self._order = itertools.count()  # ties never compare records

    def add(self, record: SessionRecord, now: float) -> None:
        """Watch `record` (if it has a limit) from `now` on."""
        due = due_at(record)
        if due is not None:
            if due <= now:  # a call on it is still running: look again an idle time later
                due = now + record.idle_seconds
            heapq.heappush(self._heap, (due, next(self._order), record))

    def due(self, now: float) -> bool:
        """Whether some session may have come due: what every request asks, in O(1)."""
        return bool(self._heap) and self._heap[0][0] <= now

    def expire(self, now: float) -> list[SandboxLike]:
        """Release every session due by `now`; their sandboxes, to close outside the lock."""
        sandboxes = []
        while self.due(now):
            _, _, record = heapq.heappop(self._heap)
            if record.status in ENDED:
                continue  # deleted in the meantime
            reason = _reason(record, now)
            if reason is None:
                self.add(record, now)
                continue
            record.status, record.changed_at, record.unseen = Status.FINISH, now, False
            record.end_reason = reason
            if record.sandbox is not None:
                sandboxes.append(record.sandbox)
                record.sandbox = None
        return sandboxes

    def clear(self) -> None:
        """Forget every session (the store is closing)."""
        self._heap.clear()


class Sweeper:
    """The reaper's clock on a server: calls `sweep` every `every` seconds until stopped, so
    sessions come due are released when no request arrives (a run killed outright)."""

    def __init__(self, sweep: Callable[[], None], name: str, every: float = SWEEP_SECONDS) -> None:
        self._sweep, self._every = sweep, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Sweeper:
        """Start sweeping; returns self."""
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self._sweep()
            except Exception:  # a bug must cost one sweep, never the reaper
                log.exception("releasing expired sessions failed")

    def stop(self) -> None:
        """Stop, and wait for a sweep under way to finish."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
