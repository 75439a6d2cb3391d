"""`AgentBay` and `AsyncAgentBay`: the same operations, run by the sync or the async driver."""

from __future__ import annotations

import os
from types import TracebackType
from typing import Any

from ..clock import SYSTEM_CLOCK, Clock
from ..models.modes import Async, M, Sync
from ..models.params import CreateSessionParams
from ..models.results import (
    DeleteResult,
    GetSessionResult,
    SessionData,
    SessionDataResult,
    SessionListResult,
    SessionPauseResult,
    SessionResult,
    SessionResumeResult,
)
from ..protocol import sessions
from ..protocol.calls import Op, RetryPolicy
from ..protocol.lifecycle import POLL_INTERVAL_S, WAIT_TIMEOUT_S
from ..protocol.ops import require_id
from ..redact import mask_key
from .binding import Bound, operation
from .config import Config, resolve_settings
from .drivers import AsyncDriver, Observer, SyncDriver
from .session import Session


def _session_id(session: Session[Any] | str) -> str:
    return session if isinstance(session, str) else session.session_id


class ClientBase(Bound[M]):
    """Settings and operations shared by both clients.

    `transport` (an httpx transport: the local backend in-process, or respx) and `clock`
    (time for polling waits and retries) are for tests and the plugin; `retry` bounds retries;
    `observer(call, outcome, seconds)` sees every request.
    """

    _driver_class: type[SyncDriver] | type[AsyncDriver]

    def __init__(
        self,
        api_key: str = "",
        cfg: Config | None = None,
        env_file: str | os.PathLike[str] | None = None,
        *,
        transport: Any = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        observer: Observer | None = None,
    ) -> None:
        settings = resolve_settings(api_key, cfg, env_file)
        self.endpoint = settings.endpoint
        self.region_id = settings.region_id
        self.retry = retry or RetryPolicy()
        self._masked_key = mask_key(settings.api_key)
        self._driver = self._driver_class(
            settings.endpoint,
            settings.api_key,
            settings.timeout_ms / 1000,
            clock or SYSTEM_CLOCK,
            transport,
        )
        self._driver.observer = observer

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self.endpoint!r}, api_key={self._masked_key!r})"

    def session(self, session: SessionData | str) -> Session[M]:
        """A Session object bound to this client, for a session id or another session's `data`.

        No request is sent: this is how a session made elsewhere (another client, thread,
        process or event loop) is used here. `get()` asks the service instead.
        """
        data = session if isinstance(session, SessionData) else SessionData(session)
        require_id(data.session_id)
        return Session(self, data)

    def _bound(self, op: Op[SessionDataResult]) -> Op[SessionResult[M]]:
        """Run `op`, then bind the session it found to this client."""
        found = yield from op
        session = self.session(found.data) if found.data else None
        return SessionResult(**found.model_dump(exclude={"data"}), session=session)

    @operation
    def create(self, params: CreateSessionParams | None = None) -> Op[SessionResult[M]]:
        """Create a session (default image unless `params.image_id`), labelled `params.labels`."""
        return self._bound(sessions.create(self, params))

    @operation
    def list(
        self,
        labels: dict[str, str] | None = None,
        page: int | None = None,
        limit: int | None = None,
    ) -> Op[SessionListResult]:
        """Sessions having all of `labels`; `page` (from 1) follows NextToken; `limit` per page."""
        return sessions.list_sessions(self, labels, page, limit)

    @operation
    def delete(self, session: Session[M] | str, sync_context: bool = False) -> Op[DeleteResult]:
        """Delete `session` (object or id) and wait until the service reports it gone."""
        return sessions.delete(self, _session_id(session), sync_context)

    @operation
    def get_session(self, session_id: str) -> Op[GetSessionResult]:
        """Raw session data (GetSession), without a Session object."""
        return sessions.get_session(self, session_id)

    @operation
    def get(self, session_id: str) -> Op[SessionResult[M]]:
        """A Session object for an existing session id (GetSession checks it first)."""
        return self._bound(sessions.get(self, session_id))

    @operation
    def pause(
        self,
        session: Session[M] | str,
        timeout: float = WAIT_TIMEOUT_S,
        poll_interval: float = POLL_INTERVAL_S,
    ) -> Op[SessionPauseResult]:
        """Pause `session`, polling GetSession every `poll_interval` s until PAUSED."""
        return sessions.pause(self, _session_id(session), timeout, poll_interval)

    @operation
    def pause_async(self, session: Session[M] | str) -> Op[SessionPauseResult]:
        """Ask for a pause and return at once (status PAUSING)."""
        return sessions.pause(self, _session_id(session), None)

    @operation
    def resume(
        self,
        session: Session[M] | str,
        timeout: float = WAIT_TIMEOUT_S,
        poll_interval: float = POLL_INTERVAL_S,
    ) -> Op[SessionResumeResult]:
        """Resume `session`, polling GetSession every `poll_interval` s until RUNNING."""
        return sessions.resume(self, _session_id(session), timeout, poll_interval)

    @operation
    def resume_async(self, session: Session[M] | str) -> Op[SessionResumeResult]:
        """Ask for a resume and return at once (status RESUMING)."""
        return sessions.resume(self, _session_id(session), None)


class AgentBay(ClientBase[Sync]):
    """The synchronous AgentBay client. Close it (or use `with`) to release its connections."""

    _driver: SyncDriver
    _driver_class = SyncDriver

    def close(self) -> None:
        """Close pooled connections."""
        self._driver.close()

    def __enter__(self) -> AgentBay:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


class AsyncAgentBay(ClientBase[Async]):
    """The asynchronous AgentBay client: every method is awaited. Close it or use `async with`."""

    _driver: AsyncDriver
    _driver_class = AsyncDriver

    async def close(self) -> None:
        """Close pooled connections."""
        await self._driver.close()

    async def __aenter__(self) -> AsyncAgentBay:
        return self

    async def __aexit__(
        self, *exc: type[BaseException] | BaseException | TracebackType | None
    ) -> None:
        await self.close()


def close_idle(client: AsyncAgentBay) -> None:
    """Close `client`'s pooled connections of event loops that are not running, from outside
    any loop (a synchronous fixture's teardown). An `AsyncAgentBay` keeps one pool per event
    loop it is awaited in, so it can be shared between loops."""
    client._driver.close_idle()
