"""Sending creates for the leases: quota slots with a deadline, the service's quota errors
waited out with jittered backoff, and creates in flight accounted for (a create whose reply
was lost is looked for by its labels, so its session is not left alive)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from ..client.agentbay import AgentBay, AsyncAgentBay
from ..models.params import CreateSessionParams
from ..models.results import SessionResult
from .fleet import Fleet, Slot, SlotTimeout
from .guard import InFlight, is_quota_error, pauses
from .settings import Settings
from .tracker import Tracker

NOTICE_AFTER_S = 2.0  # a wait for quota this long is said on the terminal as it happens


class Notice:
    """Says once, on the terminal, that a test has been waiting for quota a while: a silent
    wait of up to --agentbay-quota-timeout looks like a hang."""

    def __init__(self, say: Callable[[], None]) -> None:
        self.started, self.say, self.said = time.monotonic(), say, False

    def tick(self) -> None:
        if not self.said and time.monotonic() - self.started >= NOTICE_AFTER_S:
            self.said = True
            self.say()


class Sending:
    """The create half of `Leases` (which sets these attributes)."""

    config: pytest.Config
    settings: Settings
    fleet: Fleet
    tracker: Tracker
    inflight: InFlight
    slots: dict[str, Slot]

    @property
    def client(self) -> AgentBay:
        raise NotImplementedError

    def _wait_deletes(self) -> None:
        raise NotImplementedError

    def _take_slot(self, quota: int) -> Slot:
        self._alone(quota)
        notice = self._notice(f"all {quota} --agentbay-max-sessions slots are held")
        try:
            return self.fleet.take_slot(quota, self.settings.quota_timeout, notice.tick)
        except SlotTimeout as late:
            self._no_slot(quota, late.waited)
            raise  # pragma: no cover - _no_slot raises

    async def _atake_slot(self, quota: int) -> Slot:
        """`_take_slot` without blocking the event loop."""
        self._alone(quota)
        notice = self._notice(f"all {quota} --agentbay-max-sessions slots are held")
        try:
            return await self.fleet.atake_slot(quota, self.settings.quota_timeout, notice.tick)
        except SlotTimeout as late:
            self._no_slot(quota, late.waited)
            raise  # pragma: no cover - _no_slot raises

    def _alone(self, quota: int) -> None:
        """Fail at once when this process holds every slot: no one else can free one."""
        if len(self.slots) >= quota:
            self._wait_deletes()  # our own background deletes give slots back
        if len(self.slots) >= quota:
            pytest.fail(
                f"AgentBay: {self.tracker.current or 'this test'} needs more than "
                f"--agentbay-max-sessions={quota} session(s) at once (this process already "
                f"holds {len(self.slots)}); raise --agentbay-max-sessions",
                pytrace=False,
            )

    def _no_slot(self, quota: int, waited: float) -> None:
        pytest.fail(
            f"AgentBay: waited {waited:.1f} s for one of the --agentbay-max-sessions={quota} "
            f"quota slots (all held by tests that wait too, or by long tests) and gave up at "
            f"--agentbay-quota-timeout={self.settings.quota_timeout:g}; raise either option",
            pytrace=False,
        )

    def _send(self, params: CreateSessionParams) -> SessionResult[Any]:
        """Create; the service's quota errors are retried with backoff and jitter up to the
        quota deadline (shards on other machines share the account's quota)."""
        retries = pauses(self.settings.quota_timeout)
        notice = self._notice("the service refuses creates for its quota")
        while True:
            with self._flight(params) as got:
                got.append(self.client.create(params))
            if (pause := self._retry(got, retries)) is None:
                return got[0]  # type: ignore[no-any-return]
            time.sleep(pause)
            notice.tick()
            self.tracker.stats.quota_wait_seconds += pause

    async def _asend(self, client: AsyncAgentBay, params: CreateSessionParams) -> Any:
        retries = pauses(self.settings.quota_timeout)
        notice = self._notice("the service refuses creates for its quota")
        while True:
            got = await self._aonce(client, params)
            if (pause := self._retry(got, retries)) is None:
                return got[0]
            await asyncio.sleep(pause)
            notice.tick()
            self.tracker.stats.quota_wait_seconds += pause

    async def _aonce(self, client: AsyncAgentBay, params: CreateSessionParams) -> list[Any]:
        with self._flight(params) as got:
            got.append(await client.create(params))
        return got

    def _notice(self, why: str) -> Notice:
        """The terminal line for a long quota wait, in the process that shows the run's
        progress (xdist workers' output is not shown as it happens)."""
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if self.settings.is_worker:
            reporter = None
        waiting = self.tracker.current or "a session made ahead of time"  # (planner threads)
        line = (
            f"agentbay: {waiting} is waiting for quota ({why}); it "
            f"gives up after --agentbay-quota-timeout={self.settings.quota_timeout:g} s"
        )

        def say() -> None:
            if reporter is not None:
                reporter.write_line(line, yellow=True)

        return Notice(say)

    def _retry(self, got: list[Any], retries: Iterator[float]) -> float | None:
        """The pause before trying again after a quota error; None: the result stands."""
        return next(retries, None) if is_quota_error(got[0]) else None

    @contextmanager
    def _flight(self, params: CreateSessionParams) -> Iterator[list[Any]]:
        """A create under way: counted (the sweep waits for it) and, if its reply is lost,
        its session looked for by its labels."""
        self.inflight.begin()
        got: list[Any] = []
        try:
            yield got
        finally:
            self._created(params, got[0] if got else None)

    def _created(self, params: CreateSessionParams, result: SessionResult[Any] | None) -> None:
        """A create ended; if its reply was lost, its session may exist: look for it now (the
        end-of-run sweep looks again)."""
        self.inflight.end(params, result, 2 * self.settings.timeout)
        if result is not None and self.inflight.suspects:
            for session_id in self.inflight.reclaim(self.client, self._known):
                self.tracker.orphans.append(session_id)

    def _known(self, session_id: str) -> bool:
        return session_id in self.tracker.alive or session_id in self.tracker.kept
