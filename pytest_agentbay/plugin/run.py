"""The run's AgentBay state: its frozen settings, backend, tracker and fleet, and the leases
of the sessions this process has live. Built once at configure time by `start_run`, and only
in runs that use AgentBay; the leases (and with them the client and pydantic) are made when a
test first needs a session, so that a run without AgentBay pays for none of it, and a run
whose tests take no session for little."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from .settings import NEEDS_AGENTBAY, Settings

if TYPE_CHECKING:
    from .backend import Backend
    from .fleet import Fleet
    from .leases import Leases
    from .tracker import Tracker

RUN_KEY = pytest.StashKey["Run"]()
SETTINGS_KEY = pytest.StashKey[Settings]()
FAILED_KEY = pytest.StashKey[bool]()  # a phase of this test failed
USED_KEY = pytest.StashKey[list[dict[str, Any]]]()  # the sessions a node created


@dataclass
class Run:
    """Everything the fixtures and hooks share for one pytest process."""

    config: pytest.Config
    settings: Settings
    tracker: Tracker
    fleet: Fleet
    backend: Backend | None  # None: tests that need AgentBay are skipped (or the run reaps)
    leaked: list[str] = field(default_factory=list)  # deleted by the end-of-run sweep
    crashed: dict[str, list[str]] = field(default_factory=dict)  # worker -> sessions deleted
    merged: set[str] = field(default_factory=set)  # workers whose figures are summed
    stopping: str = ""  # why the run stops (a signal, a lost controller): no new creates
    swept: bool = False  # the end-of-run sweep ran (pytest_sessionfinish)
    _leases: Leases | None = None

    @property
    def leases(self) -> Leases:
        """The sessions this process holds; made (with the client's imports) on first use, so
        that a run whose tests take no session never loads them."""
        if self._leases is None:
            from .leases import Leases

            self._leases = Leases(self.config, self.settings, self.tracker, self.fleet,
                                  self.backend)
            self._leases.stopping = self.stopping
        return self._leases

    def stop(self, reason: str) -> None:
        """Create no more sessions: the run is stopping for `reason`."""
        self.stopping = reason
        if self._leases is not None:
            self._leases.stopping = reason

    def sweep(self, worker: str | None = None, orphaned: bool = False) -> list[str]:
        """`Leases.sweep` where this run's sessions may live; [] where none can (a local
        backend that never started, and no client of it made here)."""
        if self.backend is None or not (self._leases is not None or self.backend.in_use):
            return []
        return self.leases.sweep(worker, orphaned)

    def merge_stats(self, worker: str, stats: dict[str, Any]) -> None:
        """Add a worker's figures to the summary, once."""
        if worker not in self.merged:
            self.merged.add(worker)
            self.tracker.stats.merge(stats)

    def merge_unsent_stats(self) -> None:
        """Add the figures of workers that recorded them but could not send them (the
        controller stopped listening: Ctrl-C, SIGTERM), so the summary's totals add up."""
        for worker, stats in self.fleet.read_stats().items():
            self.merge_stats(worker, stats)

    def require_backend(self) -> Backend:
        """The backend, or a skip that says how to run AgentBay tests."""
        from .backend import required

        backend = required(self.backend)
        backend.start()
        return backend

    def close(self) -> None:
        """Close the client and stop the backend this process started."""
        if self._leases is not None:
            self._leases.close()
        if self.backend is not None:
            self.backend.close()
        if self.fleet.owner:
            self.fleet.remove()


def start_run(config: pytest.Config, settings: Settings) -> Run:
    """Reach (or start) the backend `settings` ask for, with the state that goes with it."""
    from .fleet import Fleet
    from .tracker import Tracker

    tracker = Tracker(settings.worker, settings.run_id, settings.shard_id)
    backend: Backend | None = None
    if settings.replaying and settings.cassettes is not None:
        from .replay import ReplayBackend

        backend = ReplayBackend.create(settings.cassettes.label)
    elif settings.live and not settings.reap:
        from .backend import choose

        backend = choose(config)
        tracker.secrets.add(backend.api_key)
    fleet = Fleet(settings.fleet_dir)  # after the backend: a UsageError there leaves no directory
    return Run(config, settings, tracker, fleet, backend)


def active_run(config: pytest.Config) -> Run | None:
    """The run state of `config`; None in a run that does not use AgentBay."""
    return config.stash.get(RUN_KEY, None)


def get_run(config: pytest.Config) -> Run:
    """The run state of `config`, or a skip that says how to run AgentBay tests (a fixture
    requested in a run that does not use AgentBay)."""
    run = config.stash.get(RUN_KEY, None)
    if run is None:
        pytest.skip(NEEDS_AGENTBAY)
    return run
