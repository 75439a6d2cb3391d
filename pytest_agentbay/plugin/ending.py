"""Ending sessions for the leases: deletes in the background, waiting for them, and the
end-of-run sweep of the run's sessions still alive (the fleet's shared one too)."""

from __future__ import annotations

import concurrent.futures
import time
from typing import TYPE_CHECKING

from ..client.agentbay import AgentBay
from ..labels import SHARD_LABEL, WORKER_LABEL
from ..models.results import DeleteResult
from .backend import Backend
from .fleet import Fleet, Slot
from .guard import InFlight
from .heartbeat import Heartbeat
from .settings import Settings
from .tracker import Tracker

if TYPE_CHECKING:
    from .planner import Planner

DELETERS = 4  # background deletes at once per process


class Ending:
    """The delete half of `Leases` (which sets these attributes)."""

    settings: Settings
    fleet: Fleet
    tracker: Tracker
    backend: Backend | None
    inflight: InFlight
    heartbeat: Heartbeat
    slots: dict[str, Slot]
    planner: Planner | None
    _deletes: list[concurrent.futures.Future[None]]
    _deleter: concurrent.futures.ThreadPoolExecutor | None

    if TYPE_CHECKING:  # `Leases` and `Sending` define these

        @property
        def client(self) -> AgentBay: ...

        def _known(self, session_id: str) -> bool: ...

    def deleted(self, session_id: str, result: DeleteResult) -> None:
        """A teardown's delete: a failure is reported at the end as a leak, never raised."""
        if not result.success:
            self.tracker.alive.setdefault(session_id, 0.0)
        else:
            self.heartbeat.remove(session_id)
        slot = self.slots.pop(session_id, None)
        if slot is not None:
            slot.release()

    def delete_later(self, session_id: str) -> None:
        """Delete in the background: the next test need not wait for it. `drain()` waits."""
        if self.settings.recording:  # cassettes: the delete belongs to the scope ending now
            self.deleted(session_id, self.client.delete(session_id))
            return
        if self._deleter is None:
            self._deleter = concurrent.futures.ThreadPoolExecutor(DELETERS, "agentbay-delete")
        self._deletes = [f for f in self._deletes if not f.done()]
        if len(self._deletes) >= DELETERS:  # a backlog: sessions being deleted still count
            concurrent.futures.wait(self._deletes, return_when=concurrent.futures.FIRST_COMPLETED)
        marker = self.fleet.deleting(session_id)  # counted in the planner's look-ahead

        def delete() -> None:
            try:
                self.deleted(session_id, self.client.delete(session_id))
            finally:
                marker.unlink(missing_ok=True)

        self._deletes.append(self._deleter.submit(delete))

    def _wait_deletes(self) -> None:
        for future in self._deletes:
            future.result()
        self._deletes.clear()

    def drain(self) -> None:
        """Wait for background deletes and stop creating ahead; delete what nobody claimed."""
        self._wait_deletes()
        if self.planner is not None:
            unused = self.planner.unclaimed()
            self.planner = None
            for session_id in unused:  # counted as created here, so count their deletion too
                self.tracker.alive[session_id] = time.monotonic()
            self.tracker.stats.unused += len(unused)
            if unused:
                self.delete_all(unused)

    def delete_all(self, session_ids: list[str]) -> None:
        """Delete sessions concurrently (factory teardown)."""
        with concurrent.futures.ThreadPoolExecutor(max(1, min(8, len(session_ids)))) as pool:
            for session_id, result in zip(
                session_ids, pool.map(self.client.delete, session_ids), strict=True
            ):
                self.deleted(session_id, result)

    def sweep(self, worker: str | None = None, orphaned: bool = False) -> list[str]:
        """Delete the run's sessions still alive (of one worker, or of this process; on the
        controller, or in a worker whose controller is gone, of every worker); returns their
        ids: the leaks."""
        if self.backend is None or self.settings.replaying:  # replayed: nothing lives
            return []
        if worker is None:
            self.drain()
            self._settle()
        labels = {SHARD_LABEL: self.tracker.shard_id}
        if not orphaned and (worker or self.settings.is_worker or not self.settings.uses_xdist):
            labels[WORKER_LABEL] = worker or self.tracker.worker
        if not self.settings.is_worker and worker is None:
            self._delete_fleet_session()
        listed = self.client.list(labels=labels, limit=100)
        leaked = sorted((set(listed.session_ids) | set(self.tracker.alive)) - self.tracker.kept)
        if leaked:
            self.delete_all(leaked)
            self.tracker.stats.leaked += len(leaked)
        return leaked

    def _settle(self) -> None:
        """Before the sweep: wait for creates under way, delete the sessions creates whose
        reply was lost made after all, and mark the kept sessions' run as over."""
        self.inflight.wait(2 * self.settings.timeout)
        self.heartbeat.stop()
        for session_id in self.inflight.reclaim(self.client, self._known, final=True):
            self.tracker.orphans.append(session_id)
        if self.tracker.kept:  # reap counts their age from now, not from the next refresh
            self.heartbeat.beat(time.time(), only=set(self.tracker.kept))

    def _delete_fleet_session(self) -> None:
        shared = self.fleet.shared_session()
        if shared is not None:
            self.tracker.alive.pop(shared["session_id"], None)
            if shared["session_id"] not in self.tracker.kept:
                result = self.client.delete(shared["session_id"])
                self.tracker.stats.deleted += result.success
                self.deleted(shared["session_id"], result)
