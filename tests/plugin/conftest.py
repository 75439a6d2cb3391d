"""Plugin tests run pytest inside pytest, as a user would, against an emulator the test owns.

The `backend` fixture starts an emulator on loopback and points AGENTBAY_ENDPOINT and
AGENTBAY_API_KEY at it; an inner run with `--agentbay --agentbay-backend=cloud` then talks to
it, so the outer test can see every session the inner run created and whether any is alive.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_agentbay.emulator import Emulator, LiveSession, Reply

from ..conftest import serving

TEST_LABEL = "pytest-agentbay.test"
KEY = "akm-plugin-tests-0123456789"
CLOUD = ("--agentbay", "--agentbay-backend=cloud")
QUIET = ("-p", "no:cacheprovider")
INI = """\
[pytest]
asyncio_default_fixture_loop_scope = function
asyncio_default_test_loop_scope = function
"""


class RecordingEmulator(Emulator):
    """An emulator that remembers what it was asked, in order.

    `create_calls`: the parameters of every CreateMcpSession. `events`: `(action, session id,
    detail)` of every successful create, delete and shell command (detail: the command).
    `arrivals`: `(action, monotonic time)` of every call as it arrived.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.create_calls: list[dict[str, str]] = []
        self.events: list[tuple[str, str, str]] = []
        self.arrivals: list[tuple[str, float]] = []
        self.peak_live = 0  # the most sessions alive at once

    def handle(self, params: Mapping[str, str], *, body_size: int = 0) -> Reply:
        action = params.get("Action", "")
        self.arrivals.append((action, time.monotonic()))
        if action == "CreateMcpSession":
            self.create_calls.append(dict(params))
        reply = super().handle(params, body_size=body_size)
        if reply.status == 200:
            self._record(action, params, reply)
        return reply

    def _record(self, action: str, params: Mapping[str, str], reply: Reply) -> None:
        data = reply.body.get("Data")
        if action == "CreateMcpSession" and isinstance(data, dict):
            self.events.append(("create", str(data.get("SessionId")), ""))
            self.peak_live = max(self.peak_live, len(self.live_sessions()))
        elif action == "DeleteSessionAsync":
            self.events.append(("delete", params.get("SessionId", ""), ""))
        elif action == "CallMcpTool" and params.get("Name") == "shell":
            command = json.loads(params.get("Args", "{}")).get("command", "")
            self.events.append(("shell", params.get("SessionId", ""), command))


def node_hash(nodeid: str) -> str:
    """The `pytest-agentbay.test` label of sessions made for `nodeid`."""
    return hashlib.sha1(nodeid.encode()).hexdigest()[:12]


@dataclass
class Backend:
    """The outer test's emulator, as the inner run's "cloud"."""

    emulator: RecordingEmulator
    url: str

    def live(self) -> list[LiveSession]:
        """Sessions still alive."""
        return self.emulator.live_sessions()

    def sessions(self) -> list[Any]:
        """Every session ever created (finished ones too), oldest first."""
        with self.emulator.store.lock:
            records = list(self.emulator.store.owned())
        return sorted(records, key=lambda r: r.created_at)

    def creates(self) -> int:
        """How many CreateMcpSession calls reached the backend."""
        return self.emulator.requests["CreateMcpSession"]

    def lifecycles(self) -> dict[str, list[str]]:
        """What happened to each session after its creation, in order: its commands, then
        "delete". Keyed s1, s2, ... in order of first use (creates are left out: the plugin
        may create a session ahead of the test that needs it, and deletes in the background)."""
        names: dict[str, str] = {}
        out: dict[str, list[str]] = {}
        for action, session_id, detail in self.emulator.events:
            if action != "create":
                name = names.setdefault(session_id, f"s{len(names) + 1}")
                out.setdefault(name, []).append(detail or action)
        return out

    def created_for(self, nodeid: str) -> list[Any]:
        """Sessions created for the test (or collector) `nodeid`, oldest first."""
        return [r for r in self.sessions() if r.labels.get(TEST_LABEL) == node_hash(nodeid)]

    def create_params_for(self, nodeid: str) -> list[dict[str, Any]]:
        """Create requests made for the test (or collector) `nodeid`."""
        return [p for p in self.create_params() if p["Labels"].get(TEST_LABEL) == node_hash(nodeid)]

    def create_params(self) -> list[dict[str, Any]]:
        """Image, labels and settings of every create request, in order."""
        return [
            {**call, "Labels": json.loads(call.get("Labels", "{}"))}
            for call in self.emulator.create_calls
        ]


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Backend]:
    """An emulator on loopback, reachable through AGENTBAY_ENDPOINT / AGENTBAY_API_KEY."""
    emulator = RecordingEmulator(api_keys=[KEY], root=tmp_path / "sandboxes")
    with serving(emulator, monkeypatch, KEY) as url:
        yield Backend(emulator, url)


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester project with the asyncio loop scopes set (no deprecation noise)."""
    pytester.makeini(INI)
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """An in-process inner run against the `backend` emulator."""
    return pytester.runpytest(*CLOUD, *QUIET, *args)


def run_interrupted(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """An in-process inner run that may end with Ctrl-C (not raised again in the outer test)."""
    return pytester.runpytest_inprocess(*CLOUD, *QUIET, *args, no_reraise_ctrlc=True)


def run_subprocess(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """An inner run in its own process (signals, environment, the official SDK)."""
    return pytester.runpytest_subprocess(*CLOUD, *QUIET, *args, timeout=60)
