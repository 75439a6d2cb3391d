"""The replay backend: clients that reach no server (vcrpy answers them from cassettes) and
whose polling waits pass on a virtual clock, those of code under test and the official SDK too."""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import httpx
import pytest

from ..cassette.deck import Deck
from ..cassette.scrub import ENDPOINT
from ..cassette.seam import DeckTransport
from ..client.agentbay import AgentBay, AsyncAgentBay
from ..client.drivers import Observer
from ..clock import SYSTEM_CLOCK, VirtualClock
from .backend import ENV_NAMES, Backend

REPLAY_KEY = "replay-placeholder-key"
SDK_PACKAGE = "agentbay"  # the official SDK (wuying-agentbay-sdk)


@dataclass
class ReplayBackend(Backend):
    """Replayed sessions: no key, no network, no real waits."""

    where: str = ""
    clock: VirtualClock = field(default_factory=VirtualClock, repr=False)
    _test: pytest.MonkeyPatch | None = field(default=None, repr=False)
    _sdk: bool = field(default=False, repr=False)
    deck: Deck | None = field(default=None, repr=False)  # set by the recorder of the run

    @classmethod
    def create(cls, where: str) -> ReplayBackend:
        """The backend of a run replaying the cassettes in `where`."""
        return cls("replay", ENDPOINT, REPLAY_KEY, where=where)

    # Our clients are answered at the transport seam, by the deck, without vcrpy's stubs.
    # What the deck leaves goes to a transport that never connects (vcrpy answers first).
    def client(self, observer: Observer | None = None) -> AgentBay:
        transport: httpx.BaseTransport = httpx.HTTPTransport(verify=False)
        if self.deck is not None:
            transport = DeckTransport(self.deck, sync=transport)
        return AgentBay(
            self.api_key, self._config(), observer=observer, clock=self.clock, transport=transport
        )

    def async_client(self, observer: Observer | None = None) -> AsyncAgentBay:
        transport: httpx.AsyncBaseTransport = httpx.AsyncHTTPTransport(verify=False)
        if self.deck is not None:
            transport = DeckTransport(self.deck, async_=transport)
        return AsyncAgentBay(
            self.api_key, self._config(), observer=observer, clock=self.clock, transport=transport
        )

    def describe(self) -> str:
        return f"backend: replay (cassettes in {self.where}; no key, no network)"

    def reach_hint(self, session_id: str) -> str:
        return "a replayed session exists only in its cassette"

    def enter_test(self) -> None:
        """While a replayed test runs, code under test that builds its own client (ours or the
        official SDK) reaches this backend, and waits on the system clock are virtual."""
        self._test = patch = pytest.MonkeyPatch()
        for name in ENV_NAMES:
            patch.delenv(name, raising=False)
        patch.setenv("AGENTBAY_ENDPOINT", self.endpoint)
        patch.setenv("AGENTBAY_API_KEY", self.api_key)
        patch.setattr(SYSTEM_CLOCK, "sleep", self.clock.sleep)
        patch.setattr(SYSTEM_CLOCK, "asleep", self.clock.asleep)
        self._sdk = False

    def leave_test(self) -> None:
        """Undo `enter_test`."""
        if self._test is not None:
            self._test.undo()
            self._test = None

    def virtualize_sdk(self) -> None:
        """Once the official SDK is imported, its `time.sleep` and `asyncio.sleep` (its polling
        waits) advance the virtual clock instead, until the test ends."""
        if self._test is None or self._sdk or SDK_PACKAGE not in sys.modules:
            return
        self._sdk = True
        prefix = SDK_PACKAGE + "."
        for name, module in list(sys.modules.items()):
            if module is not None and (name == SDK_PACKAGE or name.startswith(prefix)):
                if getattr(module, "time", None) is time:
                    self._test.setattr(module, "time", _StandIn(time, sleep=self.clock.sleep))
                if getattr(module, "asyncio", None) is asyncio:
                    self._test.setattr(module, "asyncio", _StandIn(asyncio, sleep=self._asleep))

    async def _asleep(self, seconds: float, result: Any = None) -> Any:
        await self.clock.asleep(seconds)
        return result

    def close(self) -> None:
        self.leave_test()
        super().close()


class _StandIn(ModuleType):
    """A module that is `real` except for the attributes given."""

    def __init__(self, real: ModuleType, **overrides: Any) -> None:
        super().__init__(real.__name__)
        self._real = real
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)
