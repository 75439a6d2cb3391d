"""The run's AgentBay state: backend, tracker and clients, and session leases with teardown."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from ..client.agentbay import AgentBay
from ..client.session import Session
from ..models.params import CreateSessionParams
from ..models.results import DeleteResult, SessionResult
from .backend import Backend
from .markers import session_params
from .tracker import RUN_LABEL, WORKER_LABEL, Tracker, tags

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
        if overrides:
            labels = {**params.labels, **overrides.pop("labels", {})}
            params = params.model_copy(update={**overrides, "labels": labels})
            CreateSessionParams.model_validate(params.model_dump())
        return params

    def checked(
        self,
        result: SessionResult[Any],
        node: pytest.Item | pytest.Collector,
        params: CreateSessionParams,
    ) -> Any:
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

    @contextmanager
    def lease(self, node: pytest.Item | pytest.Collector) -> Iterator[Session[Any]]:
        """A session for `node` on the sync client, deleted when the scope ends."""
        params = self.params(node)
        session = self.checked(self.client.create(params), node, params)
        self.used(node, session, params)
        try:
            yield session
        finally:
            if not self.keep(session.session_id, node):
                self.deleted(session.session_id, self.client.delete(session))

    def delete_all(self, session_ids: list[str]) -> None:
        """Delete sessions concurrently (factory teardown)."""
        with concurrent.futures.ThreadPoolExecutor(max(1, min(8, len(session_ids)))) as pool:
            for session_id, result in zip(
                session_ids, pool.map(self.client.delete, session_ids), strict=True
            ):
                self.deleted(session_id, result)

    def sweep(self) -> list[str]:
        """Delete this process's sessions still alive at the end; returns their ids (leaks)."""
        if self.backend is None or not self.tracker.stats.created:
            return []
        labels = {RUN_LABEL: self.tracker.run_id, WORKER_LABEL: self.tracker.worker}
        listed = self.client.list(labels=labels, limit=100)
        leaked = sorted((set(listed.session_ids) | set(self.tracker.alive)) - self.tracker.kept)
        if leaked:
            self.delete_all(leaked)
            self.tracker.stats.leaked += len(leaked)
        return leaked

    def close(self) -> None:
        """Close the client and stop the backend this process started."""
        if self._client is not None:
            self._client.close()
        if self.backend is not None:
            self.backend.close()


def get_run(config: pytest.Config) -> Run:
    """The run state of `config`."""
    return config.stash[RUN_KEY]
