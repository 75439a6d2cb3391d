"""A delete on the local backend over loopback: how many calls it takes. With no knob set the
first status read already says the session is gone; with a delete latency, pollers still see
DELETING first. (Its time is measured in benchmarks/delete_bench.py, not asserted here.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_agentbay import AgentBay, Config
from pytest_agentbay.emulator import Emulator, EmulatorServer

KEY = "akm-delete-calls-0123456789"


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    """A real emulator (real sandboxes) on a loopback port."""
    emulator = Emulator(api_keys=[KEY], root=tmp_path / "boxes")
    yield emulator
    emulator.close()


@pytest.fixture
def client(emulator: Emulator) -> Iterator[AgentBay]:
    """Our client of `emulator`, over real loopback HTTP."""
    with EmulatorServer(emulator) as server, AgentBay(KEY, Config(server.url)) as client:
        yield client


def _delete_calls(emulator: Emulator, client: AgentBay) -> dict[str, int]:
    session = client.create().session
    assert session is not None
    assert session.command.execute_command("true").success  # a sandbox to take down too
    before = dict(emulator.requests)
    assert client.delete(session).success
    return {action: emulator.requests[action] - before.get(action, 0)
            for action in ("DeleteSessionAsync", "GetSessionDetail")}


def test_with_no_knob_the_first_status_read_says_gone(
    emulator: Emulator, client: AgentBay
) -> None:
    assert _delete_calls(emulator, client) == {"DeleteSessionAsync": 1, "GetSessionDetail": 1}
    assert emulator.live_sessions() == []


def test_with_a_delete_latency_pollers_see_deleting_first(
    emulator: Emulator, client: AgentBay
) -> None:
    emulator.set_latency("DeleteSessionAsync", 0.001)
    assert _delete_calls(emulator, client) == {"DeleteSessionAsync": 1, "GetSessionDetail": 2}
    assert emulator.live_sessions() == []
