"""What the processes of one run share through a directory: test groups, quota slots, and the
fleet-wide shared session. File locks (filelock: `flock` on POSIX, `msvcrt.locking` on
Windows) make it crash-safe: a killed process's locks are released by the operating system, so
its quota slots free themselves.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # filelock is imported by the first quota slot or shared session
    from filelock import FileLock

SLOT_POLL_SECONDS = 0.05


class SlotTimeout(TimeoutError):
    """No quota slot came free in time; `waited` says how long was spent."""

    def __init__(self, waited: float) -> None:
        super().__init__(f"no quota slot after {waited:.1f} s")
        self.waited = waited


@dataclass
class Slot:
    """A held quota slot; `waited` is how long it took to get it."""

    lock: FileLock | None
    waited: float

    def release(self) -> None:
        """Give the slot back."""
        if self.lock is not None:
            self.lock.release()
            self.lock = None


class Fleet:
    """The run's shared directory. The controller (or a lone process) creates and removes it."""

    def __init__(self, path: str | None = None) -> None:
        self.owner = path is None
        self.path = Path(path or tempfile.mkdtemp(prefix="agentbay-fleet-"))

    # -- test groups (for the xdist scheduler) ----------------------------------------------

    def write_groups(self, worker: str, groups: dict[str, str]) -> None:
        """Record which tests share a session (node id -> group), atomically."""
        target = self.path / f"groups-{worker}.json"
        partial = target.with_suffix(".tmp")
        partial.write_text(json.dumps(groups))
        os.replace(partial, target)

    def write_plan(self, worker: str, plan: list[dict[str, Any]]) -> None:
        """Record the sessions a worker's collection needs (for the controller's planner)."""
        target = self.path / f"plan-{worker}.json"
        partial = target.with_suffix(".tmp")
        partial.write_text(json.dumps(plan))
        os.replace(partial, target)

    def read_plan(self, worker: str) -> list[dict[str, Any]]:
        """A worker's plan, or an empty one."""
        path = self.path / f"plan-{worker}.json"
        return list(json.loads(path.read_text())) if path.exists() else []

    def read_groups(self) -> dict[str, str]:
        """Every worker's groups, merged (they collected the same tests)."""
        merged: dict[str, str] = {}
        for path in sorted(self.path.glob("groups-*.json")):
            merged.update(json.loads(path.read_text()))
        return merged

    # -- quota slots ------------------------------------------------------------------------

    def _slot_attempts(self, size: int, timeout: float | None) -> Generator[float, None, Slot]:
        """Try each slot; yield the seconds to wait before trying again; return the slot;
        SlotTimeout once `timeout` seconds have passed without one."""
        from filelock import FileLock, Timeout

        started = time.monotonic()
        while True:
            for index in range(size):
                # thread_local=False: a slot taken in one thread may be given back in another
                lock = FileLock(self.path / f"slot-{index}", thread_local=False)
                try:
                    lock.acquire(timeout=0)
                except Timeout:
                    continue
                return Slot(lock, time.monotonic() - started)
            if timeout is not None and time.monotonic() - started >= timeout:
                raise SlotTimeout(time.monotonic() - started)
            yield SLOT_POLL_SECONDS

    def take_slot(self, size: int, timeout: float | None, waiting: Callable[[], Any]) -> Slot:
        """Wait (at most `timeout` seconds) for one of `size` fleet-wide slots; `waiting()` is
        called before each pause."""
        attempts = self._slot_attempts(size, timeout)
        while True:
            try:
                delay = next(attempts)
            except StopIteration as got:
                return got.value  # type: ignore[no-any-return]
            waiting()
            time.sleep(delay)

    async def atake_slot(
        self, size: int, timeout: float | None, waiting: Callable[[], Any]
    ) -> Slot:
        """`take_slot` without blocking the event loop."""
        attempts = self._slot_attempts(size, timeout)
        while True:
            try:
                delay = next(attempts)
            except StopIteration as got:
                return got.value  # type: ignore[no-any-return]
            waiting()
            await asyncio.sleep(delay)

    def deleting(self, session_id: str) -> Path:
        """Mark `session_id` as being deleted (remove the returned file when done)."""
        marker = self.path / f"deleting-{session_id}"
        marker.touch()
        return marker

    # -- worker figures (read when a worker could not send them: an interrupted run) ---------

    def write_stats(self, worker: str, stats: dict[str, Any]) -> None:
        """Record a worker's figures for the summary, atomically."""
        partial = self.path / f"stats-{worker}.tmp"
        partial.write_text(json.dumps(stats))
        os.replace(partial, self.path / f"stats-{worker}.json")

    def read_stats(self) -> dict[str, dict[str, Any]]:
        """worker -> the figures it recorded."""
        return {
            p.stem.removeprefix("stats-"): json.loads(p.read_text())
            for p in self.path.glob("stats-*.json")
        }

    # -- worker processes (the controller forwards SIGTERM/SIGHUP to them) -----------------

    def register_pid(self, worker: str, pid: int) -> None:
        """Record a worker's process id."""
        (self.path / f"pid-{worker}").write_text(str(pid))

    def unregister_pid(self, worker: str) -> None:
        """Forget a worker's process id (it ended)."""
        (self.path / f"pid-{worker}").unlink(missing_ok=True)

    def worker_pids(self) -> list[int]:
        """The process ids workers recorded."""
        return [int(p.read_text() or 0) for p in self.path.glob("pid-*") if p.read_text()]

    # -- the fleet-wide shared session ------------------------------------------------------

    @contextmanager
    def shared_session_lock(self) -> Iterator[Path]:
        """Hold the lock that serialises creating the shared session; yields its record file."""
        from filelock import FileLock

        with FileLock(self.path / "shared.lock", thread_local=False):
            yield self.path / "shared.json"

    def shared_session(self) -> dict[str, Any] | None:
        """The fleet-wide shared session's record, if one was created."""
        record = self.path / "shared.json"
        return json.loads(record.read_text()) if record.exists() else None

    def remove(self) -> None:
        """Delete the directory (owner only)."""
        if self.owner:
            for child in self.path.iterdir():
                child.unlink(missing_ok=True)
            self.path.rmdir()


def in_flight(directory: Path) -> int:
    """Sessions made ahead and not claimed, being made ahead, or being deleted."""
    return sum(
        1
        for p in directory.iterdir()
        if p.name.startswith("deleting-")
        or (p.name.startswith("pool-") and p.suffix in (".pending", ".json"))
    )
