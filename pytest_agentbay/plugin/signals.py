"""SIGTERM and SIGHUP end a run the way Ctrl-C does (a CI job cancelled, `timeout`, a container
stopped, a closed terminal): no new test starts, fixtures tear down, the sweep deletes what is
left, the summary is printed, and the exit status is the conventional 128 + the signal's number.
A second signal exits at once. xdist workers get the controller's signal forwarded, and a worker
whose controller vanished (SIGKILL, OOM) deletes the run's sessions itself and exits."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Generator
from types import FrameType
from typing import Any

import pytest

from .run import Run

SIGNALS = (signal.SIGTERM, signal.SIGHUP)
WATCH_SECONDS = 0.2  # how often a worker checks that its controller is still there


class Terminated(KeyboardInterrupt):
    """Raised in the main thread by the first SIGTERM/SIGHUP: pytest stops as on Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"{signal.Signals(signum).name}: stopping the run, deleting its sessions")
        self.signum = signum


class Signals:
    """The run's handlers of SIGTERM and SIGHUP, installed for the run and restored after."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.received = 0  # the first signal's number; 0: none
        self.finishing = False  # the run is cleaning up: a first signal must not interrupt it
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        """Handle the signals (only the main thread may; elsewhere, leave them be)."""
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        if self.run.settings.is_worker:
            self.run.fleet.register_pid(self.run.tracker.worker, os.getpid())
            watch_controller(self.run)

    def restore(self) -> None:
        """Put back the handlers found at install (pytest may run again in this process)."""
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        """Once the tests stop (finished, failed fast, interrupted), the run cleans up: from
        then on a first signal is noted, not raised into the teardowns and the sweep."""
        try:
            return (yield)
        finally:
            self.finishing = True

    @property
    def exit_status(self) -> int | None:
        """128 + the signal's number, as shells report a process a signal ended; else None."""
        return 128 + self.received if self.received else None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received:  # asked twice: the user wants it gone now
            os._exit(128 + signum)
        self.received = signum
        self.run.stop(f"{signal.Signals(signum).name} received")
        if not self.run.settings.is_worker:
            for pid in self.run.fleet.worker_pids():  # they clean up what they hold, too
                with contextlib.suppress(OSError):  # already gone
                    os.kill(pid, signum)
        if not self.finishing:
            raise Terminated(signum)


def watch_controller(run: Run) -> threading.Thread:
    """In an xdist worker: when the controller process goes away without ending the worker
    (SIGKILL, OOM), stop creating, delete every session of the run, and exit."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(WATCH_SECONDS)
        run.stop("the xdist controller is gone")
        try:
            run.sweep(orphaned=True)
        finally:
            os._exit(128 + signal.SIGTERM)

    thread = threading.Thread(target=watch, name="agentbay-controller-watch", daemon=True)
    thread.start()
    return thread
