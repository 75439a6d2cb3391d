"""Cassette tests run pytest inside pytest, as a user would.

Recording runs (in-process) reach an emulator the outer test owns, as the inner run's "cloud",
with a key the outer test knows, so it can count what reached the backend and look for the key
in every written file. Replay runs happen in a subprocess with no key in the environment and
every internet socket refused (a guard in the inner project's conftest).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_agentbay.emulator import Emulator

from ..conftest import serving

KEY = "cassette-key-7d1e0c52b9f4"  # not shaped like a real key: only the live-key check sees it
LIVE = ("--agentbay", "--agentbay-backend=cloud", "-p", "no:cacheprovider")
INI = """\
[pytest]
asyncio_default_fixture_loop_scope = function
asyncio_default_test_loop_scope = function
"""
GUARD = """\
import os
import socket

if os.environ.get("BLOCK_NETWORK"):
    _connect = socket.socket.connect

    def _refuse(self, address, *args):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            with open(os.environ["BLOCK_NETWORK"], "a") as log:
                log.write(f"{address}\\n")
            raise RuntimeError(f"network blocked: connect to {address}")
        return _connect(self, address, *args)

    def _no_dns(*args, **kwargs):
        with open(os.environ["BLOCK_NETWORK"], "a") as log:
            log.write(f"dns {args[0]}\\n")
        raise RuntimeError(f"network blocked: resolve {args[0]}")

    socket.socket.connect = _refuse
    socket.getaddrinfo = _no_dns
"""


@dataclass
class Live:
    """The outer test's emulator, as the inner run's cloud."""

    emulator: Emulator
    url: str

    def calls(self, action: str | None = None) -> int:
        """Requests that reached the backend (of one action, or all)."""
        counts = self.emulator.requests
        return counts[action] if action else sum(counts.values())


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Live]:
    """An emulator on loopback, reachable through AGENTBAY_ENDPOINT / AGENTBAY_API_KEY."""
    emulator = Emulator(api_keys=[KEY], root=tmp_path / "sandboxes")
    with serving(emulator, monkeypatch, KEY) as url:
        yield Live(emulator, url)


class Project:
    """An inner pytest project: record (live, in-process) and replay (offline, subprocess)."""

    def __init__(self, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
        self.pytester = pytester
        self.monkeypatch = monkeypatch
        self.root = pytester.path
        self.attempts = self.root.parent / "network-attempts.log"
        pytester.makeini(INI)
        pytester.makeconftest(GUARD)

    def record(self, mode: str, *args: str) -> pytest.RunResult:
        """A live run recording with `mode`."""
        return self.pytester.runpytest(*LIVE, f"--agentbay-record-mode={mode}", *args)

    def replay(self, *args: str, offline: bool = True) -> pytest.RunResult:
        """A run without --agentbay and no key; `offline`: in a fresh process with no network
        (else in this process, faster)."""
        with self.monkeypatch.context() as env:
            for name in ("AGENTBAY_API_KEY", "AGENTBAY_ENDPOINT", "AGENTBAY_REGION_ID"):
                env.delenv(name, raising=False)
            if not offline:
                return self.pytester.runpytest("-p", "no:cacheprovider", *args)
            env.setenv("BLOCK_NETWORK", str(self.attempts))
            result = self.pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
        assert not self.attempts.exists(), self.attempts.read_text()
        return result

    def cassettes(self) -> dict[str, str]:
        """Every file under cassettes/, by path relative to it, with its text."""
        base = self.root / "cassettes"
        return {
            p.relative_to(base).as_posix(): p.read_text()
            for p in sorted(base.rglob("*"))
            if p.is_file()
        }


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A fresh inner project with the network guard in its conftest."""
    monkeypatch.setenv("AGENTBAY_LOG_FILE", str(pytester.path.parent / "sdk.log"))
    return Project(pytester, monkeypatch)
