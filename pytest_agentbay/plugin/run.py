"""The run's AgentBay state: backend, tracker and clients, and session leases with teardown."""

from __future__ import annotations

import concurrent.futures
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import pytest

from ..client.agentbay import AgentBay, AsyncAgentBay
from ..client.session import Session
from ..labels import RUN_LABEL, WORKER_LABEL, tags
from ..models.params import CreateSessionParams
from ..models.results import DeleteResult, SessionData, SessionResult
from .backend import Backend
from .fleet import Fleet, Slot
from .markers import session_params
from .planner import Planner, claim
from .tracker import Tracker

DELETERS = 4  # background deletes at once per process
FLEET_WORKER = "fleet"  # worker label of the fleet-wide shared session: no worker owns it
RUN_KEY = pytest.StashKey["Run"]()
FAILED_KEY = pytest.StashKey[bool]()
USED_KEY = pytest.StashKey[list[dict[str, Any]]]()


@dataclass
class Run:
    """Everything the fixtures and hooks share for one pytest process."""

    config: pytest.Config
    enabled: bool
    tracker: Tracker
    backend: Backend | None = None
    keep_on_failure: bool = False
    failed_sessions: set[str] = field(default_factory=set)
    leaked: list[str] = field(default_factory=list)
    fleet: Fleet = field(default_factory=Fleet)
    max_sessions: int | None = None
    shard: bool = True
    is_worker: bool = False
    uses_xdist: bool = False
    recording: bool = False  # cassettes record: each worker records its own shared session
    crashed: dict[str, list[str]] = field(default_factory=dict)
    slots: dict[str, Slot] = field(default_factory=dict)
    precreate: int = 0  # sessions created ahead of time at once (0: off)
    planner: Planner | None = None
    _deletes: list[concurrent.futures.Future[None]] = field(default_factory=list)
    _deleter: concurrent.futures.ThreadPoolExecutor | None = None
    _client: AgentBay | None = None

    def require_backend(self) -> Backend:
        """The backend, or a skip that says how to run AgentBay tests."""
        if not self.enabled or self.backend is None:
            pytest.skip(
                "needs AgentBay: run with `pytest --agentbay` (local backend, no key "
                "needed; the cloud when AGENTBAY_API_KEY is set)"
            )
        return self.backend

    @property
    def client(self) -> AgentBay:
        """The run's sync client (observed by the tracker)."""
        if self._client is None:
            self._client = self.require_backend().client(self.tracker.observe)
        return self._client

    def params(self, node: pytest.Item | pytest.Collector, **overrides: Any) -> CreateSessionParams:
        """Session parameters for `node`: markers, options and this run's tags."""
        params = session_params(
            self.config, node, tags(self.tracker.run_id, self.tracker.worker, node.nodeid)
        )
        if overrides:  # validated: model_copy(update=...) would take unknown fields silently
            labels = {**params.labels, **(overrides.pop("labels", None) or {})}
            fields = {**params.model_dump(), **overrides, "labels": labels}
            params = CreateSessionParams.model_validate(fields)
        return params

    def checked(
        self,
        result: SessionResult[Any],
        node: pytest.Item | pytest.Collector,
        params: CreateSessionParams,
    ) -> Session[Any]:
        """The created session, or a setup error carrying the service's code and request id."""
        if not result.success or result.session is None:
            backend = self.backend.kind if self.backend else "?"
            pytest.fail(
                f"AgentBay could not create a session (image {params.image_id!r}) for "
                f"{node.nodeid} on the {backend} backend: {result.error_message}"
                + (f" [code {result.code}]" if result.code else "")
                + (f" [request id {result.request_id}]" if result.request_id else ""),
                pytrace=False,
            )
        return result.session

    def used(
        self, node: pytest.Item | pytest.Collector, session: Any, params: CreateSessionParams
    ) -> None:
        """Remember that `node` created `session`, for its failure report."""
        info = {"session_id": session.session_id, "image": params.image_id, "labels": params.labels}
        node.stash.setdefault(USED_KEY, []).append(info)

    def keep(self, session_id: str, node: pytest.Item | pytest.Collector) -> bool:
        """Whether to keep `session_id` alive past its scope (a failed test used it)."""
        failed = node.stash.get(FAILED_KEY, False) or session_id in self.failed_sessions
        if failed and self.keep_on_failure:
            self.tracker.kept.add(session_id)
            self.tracker.stats.kept += 1
            return True
        return False

    def deleted(self, session_id: str, result: DeleteResult) -> None:
        """A teardown's delete: a failure is reported at the end as a leak, never raised."""
        if not result.success:
            self.tracker.alive.setdefault(session_id, 0.0)
        slot = self.slots.pop(session_id, None)
        if slot is not None:
            slot.release()

    def _slot(self, slot: Slot | None, session: Any = None) -> None:
        if slot is not None:
            self.tracker.stats.quota_wait_seconds += slot.waited
            if session is None:
                slot.release()
            else:
                self.slots[session.session_id] = slot

    def create(self, node: pytest.Item | pytest.Collector, **overrides: Any) -> Session[Any]:
        """A new session for `node` on the sync client, within the fleet's quota (or the one
        created ahead of time for it)."""
        params = self.params(node, **overrides)
        if self.plans() and not overrides:
            claimed = claim(self, node, params)
            if claimed is not None:
                self.used(node, claimed, params)
                return claimed  # type: ignore[no-any-return]
        slot = self.fleet.take_slot(self.max_sessions) if self.max_sessions else None
        session = None
        try:
            session = self.checked(self.client.create(params), node, params)
        finally:
            self._slot(slot, session)
        self.used(node, session, params)
        return session

    async def acreate(
        self, client: AsyncAgentBay, node: pytest.Item | pytest.Collector, **overrides: Any
    ) -> Session[Any]:
        """`create` with an async client, waiting for quota without blocking the loop."""
        params = self.params(node, **overrides)
        slot = await self.fleet.atake_slot(self.max_sessions) if self.max_sessions else None
        session = None
        try:
            session = self.checked(await client.create(params), node, params)
        finally:
            self._slot(slot, session)
        self.used(node, session, params)
        return session

    @contextmanager
    def lease(self, node: pytest.Item | pytest.Collector) -> Iterator[Session[Any]]:
        """A session for `node` on the sync client, deleted when the scope ends."""
        session = self.create(node)
        try:
            yield session
        finally:
            if not self.keep(session.session_id, node):
                self.delete_later(session.session_id)

    def delete_later(self, session_id: str) -> None:
        """Delete in the background: the next test need not wait for it. `settle()` waits."""
        if self.recording:  # cassettes: the delete belongs to the scope ending now
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

    def settle(self) -> None:
        """Wait for background deletes and stop creating ahead; delete what nobody claimed."""
        for future in self._deletes:
            future.result()
        self._deletes.clear()
        if self.planner is not None:
            unused = self.planner.unclaimed()
            self.planner = None
            for session_id in unused:  # counted as created here, so count their deletion too
                self.tracker.alive[session_id] = time.monotonic()
            if unused:
                self.delete_all(unused)

    def plans(self) -> bool:
        """Whether sessions are created ahead of time in this run."""
        return bool(
            self.precreate
            and self.enabled
            and self.backend is not None
            and self.backend.kind != "replay"
            and not self.recording
            and not self.max_sessions
        )

    def start_planner(self, plan: list[dict[str, Any]]) -> None:
        """Start creating the planned sessions (once per run, in the fleet's owner)."""
        if self.planner is None and plan and self.plans():
            self.planner = Planner(self, self.precreate)
            self.planner.start(plan)

    @contextmanager
    def fleet_lease(self, node: pytest.Item | pytest.Collector) -> Iterator[Session[Any]]:
        """The run's shared session: under xdist, one for all workers, created by the first
        that needs it and deleted by the controller at the end of the run."""
        if not self.is_worker or self.recording:
            with self.lease(node) as session:
                yield session
            return
        with self.fleet.shared_session_lock() as record:
            if record.exists():
                data = SessionData(**json.loads(record.read_text()))
                session = self.client.session(data)
            else:
                session = self.create(node, labels={WORKER_LABEL: FLEET_WORKER})
                self.tracker.alive.pop(session.session_id, None)  # the controller deletes it
                data = SessionData(session.session_id, image_id=session.image_id)
                record.write_text(json.dumps(asdict(data)))
        yield session

    def delete_all(self, session_ids: list[str]) -> None:
        """Delete sessions concurrently (factory teardown)."""
        with concurrent.futures.ThreadPoolExecutor(max(1, min(8, len(session_ids)))) as pool:
            for session_id, result in zip(
                session_ids, pool.map(self.client.delete, session_ids), strict=True
            ):
                self.deleted(session_id, result)

    def sweep(self, worker: str | None = None) -> list[str]:
        """Delete the run's sessions still alive (of one worker, or of this process; on the
        controller, of every worker); returns their ids: the leaks."""
        if self.backend is None or self.backend.kind == "replay":  # replayed: nothing lives
            return []
        if worker is None:
            self.settle()
        labels = {RUN_LABEL: self.tracker.run_id}
        if worker or self.is_worker or not self.uses_xdist:
            labels[WORKER_LABEL] = worker or self.tracker.worker
        if not self.is_worker and worker is None:
            self._delete_fleet_session()
        listed = self.client.list(labels=labels, limit=100)
        leaked = sorted((set(listed.session_ids) | set(self.tracker.alive)) - self.tracker.kept)
        if leaked:
            self.delete_all(leaked)
            self.tracker.stats.leaked += len(leaked)
        return leaked

    def _delete_fleet_session(self) -> None:
        shared = self.fleet.shared_session()
        if shared is not None:
            self.tracker.alive.pop(shared["session_id"], None)
            if shared["session_id"] not in self.tracker.kept:
                result = self.client.delete(shared["session_id"])
                self.tracker.stats.deleted += result.success
                self.deleted(shared["session_id"], result)

    def close(self) -> None:
        """Close the client and stop the backend this process started."""
        if self._client is not None:
            self._client.close()
        if self.backend is not None:
            self.backend.close()
        if self.fleet.owner:
            self.fleet.remove()


def get_run(config: pytest.Config) -> Run:
    """The run state of `config`."""
    return config.stash[RUN_KEY]
