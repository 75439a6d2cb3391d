"""Live session bookkeeping of one pytest process: creating sessions for tests (within the
fleet's quota, or claiming one created ahead), deleting them when their scope ends (in the
background), keeping those of failed tests, and the end-of-run sweep."""

from __future__ import annotations

import concurrent.futures
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import pytest

from ..client.agentbay import AgentBay, AsyncAgentBay
from ..client.session import Session
from ..labels import LABEL_PREFIX as PREFIX
from ..labels import WORKER_LABEL, tags
from ..models.params import CreateSessionParams
from ..models.results import SessionData, SessionResult
from . import hooks
from .backend import Backend, required
from .ending import Ending
from .fleet import Fleet, Slot
from .guard import InFlight, is_quota_error
from .heartbeat import PROMISE, Heartbeat
from .markers import session_params
from .params import fields as fixture_fields
from .planner import POOL_WORKER, Planner, claim
from .run import FAILED_KEY, USED_KEY
from .sending import Sending
from .settings import Settings
from .tracker import Tracker

LOGIN_CODES = ("NOT_LOGIN", "InvalidApiKey", "InvalidAccessKeyId.NotFound")  # the key is wrong
FLEET_WORKER = "fleet"  # worker label of the fleet-wide shared session: no worker owns it
Node = pytest.Item | pytest.Collector


class Leases(Ending, Sending):
    """The sessions this process created and has not deleted yet, and how to end them."""

    def __init__(
        self,
        config: pytest.Config,
        settings: Settings,
        tracker: Tracker,
        fleet: Fleet,
        backend: Backend | None,
    ) -> None:
        self.config, self.settings, self.tracker = config, settings, tracker
        self.fleet, self.backend = fleet, backend
        self.failed_sessions: set[str] = set()  # used by a test that failed
        self.slots: dict[str, Slot] = {}  # session id -> the quota slot it holds
        self.planner: Planner | None = None
        self._deletes: list[concurrent.futures.Future[None]] = []
        self._deleter: concurrent.futures.ThreadPoolExecutor | None = None
        self._client: AgentBay | None = None
        self._planned: dict[str, CreateSessionParams] = {}  # node id -> planned parameters
        self.stopping = ""  # why the run stops (a signal, a lost controller): no new creates
        self.inflight = InFlight()
        self.heartbeat = Heartbeat(lambda: self.client, {}, settings.heartbeat)

    @property
    def client(self) -> AgentBay:
        """The process's sync client (observed by the tracker); a skip without a backend."""
        if self._client is None:
            self._client = required(self.backend).client(self.tracker.observe)
        return self._client

    def params_for(self, node: Node, base: Any = None, **overrides: Any) -> CreateSessionParams:
        """Session parameters for `node`: the `agentbay_session_params` fixture's value (`base`),
        markers, options and this run's tags; then `overrides` (a factory's arguments)."""
        settings = self.settings
        own = self._tags(self.tracker.worker, node.nodeid)
        params = session_params(self.config, node, own, fixture_fields(base))
        if settings.expiry and params.idle_release_timeout is None:  # the service's own expiry
            params = params.model_copy(update={"idle_release_timeout": settings.expiry})
        if overrides:  # validated: model_copy(update=...) would take unknown fields silently
            labels = {**params.labels, **(overrides.pop("labels", None) or {})}
            fields = {**params.model_dump(), **overrides, "labels": labels}
            params = CreateSessionParams.model_validate(fields)
        return hooks.create_params(self.config, params, node)

    def plan_params(self, node: Node) -> CreateSessionParams:
        """`params_for(node)` of a session planned at collection; `create` takes them from
        here, so the parameters hook runs once for it."""
        params = self._planned[node.nodeid] = self.params_for(node)
        return params

    def checked(
        self, result: SessionResult[Any], node: Node, params: CreateSessionParams
    ) -> Session[Any]:
        """The created session, or a setup error carrying the service's code and request id."""
        if not result.success or result.session is None:
            backend = self.backend.kind if self.backend else "?"
            if result.code in LOGIN_CODES:  # every later test would fail the same way
                pytest.exit(
                    f"AgentBay refused the API key on the {backend} backend ({result.code}: "
                    f"{result.error_message}): set AGENTBAY_API_KEY to a valid key",
                    returncode=pytest.ExitCode.USAGE_ERROR,
                )
            hint = ""
            if is_quota_error(result):
                hint = (
                    f" (still refused after waiting --agentbay-quota-timeout="
                    f"{self.settings.quota_timeout:g} s)"
                )
            pytest.fail(
                f"AgentBay could not create a session (image {params.image_id!r}) for "
                f"{node.nodeid} on the {backend} backend: {result.error_message}"
                + (f" [code {result.code}]" if result.code else "")
                + (f" [request id {result.request_id}]" if result.request_id else "")
                + hint,
                pytrace=False,
            )
        return result.session

    def used(self, node: Node, session: Any, params: CreateSessionParams) -> None:
        """Remember that `node` created `session`, for its failure report."""
        info = {"session_id": session.session_id, "image": params.image_id, "labels": params.labels}
        node.stash.setdefault(USED_KEY, []).append(info)

    def failed(self, session_id: str, node: Node) -> bool:
        """Whether a test using `session_id` (or `node` itself) failed."""
        return node.stash.get(FAILED_KEY, False) or session_id in self.failed_sessions

    def keep(self, session_id: str, node: Node) -> bool:
        """Whether to keep `session_id` alive past its scope (a failed test used it)."""
        if self.failed(session_id, node) and self.settings.keep_on_failure:
            self.tracker.kept.add(session_id)
            self.tracker.stats.kept += 1
            return True
        return False

    def _slot(self, slot: Slot | None, session: Any = None) -> None:
        if slot is not None:
            self.tracker.stats.quota_wait_seconds += slot.waited
            if session is None:
                slot.release()
            else:
                self.slots[session.session_id] = slot

    def create(self, node: Node, base: Any = None, **overrides: Any) -> Session[Any]:
        """A new session for `node` on the sync client, within the fleet's quota (or the one
        created ahead of time for it)."""
        planned = None if overrides or base else self._planned.pop(node.nodeid, None)
        params = planned or self.params_for(node, base, **overrides)
        if self.settings.plans and not overrides:
            claimed = claim(self, node, params)
            if claimed is not None:
                self.born(node, claimed, params)
                self.announce(claimed, node)
                return claimed  # type: ignore[no-any-return]
        self._refuse_when_stopping()
        quota = self.settings.max_sessions
        slot = self._take_slot(quota) if quota else None
        session = None
        try:
            session = self.checked(self._send(params), node, params)
        finally:
            self._slot(slot, session)
        self.born(node, session, params)
        self.announce(session, node)
        return session

    async def acreate(
        self, client: AsyncAgentBay, node: Node, base: Any = None, **overrides: Any
    ) -> Session[Any]:
        """`create` with an async client, waiting for quota without blocking the loop."""
        params = self.params_for(node, base, **overrides)
        self._refuse_when_stopping()
        quota = self.settings.max_sessions
        slot = await self._atake_slot(quota) if quota else None
        session = None
        try:
            session = self.checked(await self._asend(client, params), node, params)
        finally:
            self._slot(slot, session)
        self.born(node, session, params)
        self.announce(session, node, sync_view=True)
        return session

    def announce(self, session: Session[Any], node: Node, sync_view: bool = False) -> None:
        """Run the session-created hook (on a sync view of an async session); a hook that
        raises gets the session deleted and its error becomes the test's setup error."""
        if hooks.wanted(self.config, "pytest_agentbay_session_created"):
            view = self.client.session(session.data) if sync_view else session

            def delete() -> None:
                self.deleted(view.session_id, self.client.delete(view.session_id))

            hooks.created(self.config, view, node, delete)

    def before_delete(self, session: Session[Any], node: Node, sync_view: bool = False) -> None:
        """Run the before-delete hook (the caller deletes `session` after it, whatever it did)."""
        if hooks.wanted(self.config, "pytest_agentbay_session_before_delete"):
            view = self.client.session(session.data) if sync_view else session
            hooks.before_delete(self.config, view, node, self.failed(view.session_id, node))

    def born(self, node: Node, session: Any, params: CreateSessionParams) -> None:
        """`node` now holds `session`: for its failure report, and the run's heartbeat."""
        self.used(node, session, params)
        if self.settings.live and not self.settings.recording:  # cassettes get no SetLabel
            self.heartbeat.add(session.session_id, params.labels)

    def _refuse_when_stopping(self) -> None:
        if self.stopping:
            pytest.fail(f"AgentBay: no new sessions, the run is stopping ({self.stopping})")

    @contextmanager
    def lease(self, node: Node, base: Any = None) -> Iterator[Session[Any]]:
        """A session for `node` on the sync client, deleted when the scope ends."""
        session = self.create(node, base)
        try:
            yield session
        finally:
            if not self.keep(session.session_id, node):
                try:
                    self.before_delete(session, node)
                finally:
                    self.delete_later(session.session_id)

    def start_planner(self, plan: list[dict[str, Any]], guess: bool = False) -> None:
        """Start creating the planned sessions (in the fleet's owner). A `guess` (the last
        run's plan, while the workers start) gives way to the real plan, the first to come."""
        if not (self.settings.plans and self.backend is not None):
            return
        if self.planner is None:
            if not plan:
                return
            self.backend.start()  # here, not in the planner's threads: a failure ends the run
            _ = self.client  # built here, not raced for by the planner's threads
            self.planner = Planner(self._create_ahead, self.fleet.path, self.settings.precreate)
        elif self.planner.guessed is None:
            return  # the real plan is followed already
        self.planner.start([self._relabelled(e) for e in plan] if guess else plan, guess)

    def _relabelled(self, entry: dict[str, Any]) -> dict[str, Any]:
        """A guessed plan entry with this run's own labels in place of the last run's."""
        params = dict(entry["params"])
        labels = {k: v for k, v in params.get("labels", {}).items() if not k.startswith(PREFIX)}
        params["labels"] = {**labels, **self._tags(POOL_WORKER, entry["key"])}
        return {**entry, "params": params}

    def _tags(self, worker: str, node_id: str) -> dict[str, str]:
        tracker, settings = self.tracker, self.settings
        alive_for = PROMISE * settings.heartbeat if settings.live else 0.0
        return tags(tracker.run_id, worker, node_id, tracker.shard_id, alive_for)

    def _create_ahead(self, params: CreateSessionParams) -> SessionResult[Any]:
        with self.tracker.unattributed():  # not the running test's: its claimer notes it
            result = self._send(params)  # quota errors waited out, lost replies accounted for
        if result.session is not None:
            self.tracker.alive.pop(result.session.session_id, None)  # the claimer's now
        return result

    @contextmanager
    def fleet_lease(self, node: Node, base: Any = None) -> Iterator[Session[Any]]:
        """The run's shared session: under xdist, one for all workers, created by the first
        that needs it and deleted by the controller at the end of the run."""
        if not self.settings.is_worker or self.settings.recording:
            with self.lease(node, base) as session:
                yield session
            return
        with self.fleet.shared_session_lock() as record:
            if record.exists():
                data = SessionData(**json.loads(record.read_text()))
                session = self.client.session(data)
            else:
                session = self.create(node, base, labels={WORKER_LABEL: FLEET_WORKER})
                self.tracker.alive.pop(session.session_id, None)  # the controller deletes it
                data = SessionData(session.session_id, image_id=session.image_id)
                record.write_text(json.dumps(asdict(data)))
        yield session

    def close(self) -> None:
        """Stop the heartbeat and close the client."""
        self.heartbeat.stop()
        if self._client is not None:
            self._client.close()
