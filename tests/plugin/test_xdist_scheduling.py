"""The xdist scheduler: xdist's own `load` scheduler when no test shares a session, and when some
do, their groups kept on one worker while the other tests still go out in batches. Driven here
with stand-in workers (as xdist's own tests drive its schedulers); whole runs under `-n 2` are
in test_xdist.py."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("xdist")

from pytest_agentbay.plugin.fleet import Fleet
from pytest_agentbay.plugin.xdist import AgentBayScheduling


class Worker:
    """A stand-in for xdist's WorkerController: remembers what it was sent."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.gateway = SimpleNamespace(id=name)
        self.queue: list[int] = []
        self.messages: list[int] = []  # how many tests each message carried
        self.shutting_down = False

    def send_runtest_some(self, indices: list[int]) -> None:
        self.queue.extend(indices)
        self.messages.append(len(indices))

    def send_runtest_all(self) -> None:
        raise AssertionError("not used with two workers")

    def shutdown(self) -> None:
        self.shutting_down = True


@pytest.fixture
def fleet() -> Iterator[Fleet]:
    made = Fleet()
    yield made
    made.remove()


def drive(
    pytester: pytest.Pytester, fleet: Fleet, collection: list[str]
) -> tuple[Any, dict[str, str], list[Worker]]:
    """Schedule `collection` on two workers and run it to the end: (scheduler, node id ->
    worker that ran it, workers)."""
    config = pytester.parseconfig("--tx", "2*popen")
    scheduler = AgentBayScheduling(config, None, fleet)
    workers = [Worker("gw0"), Worker("gw1")]
    for worker in workers:
        scheduler.add_node(worker)
    for worker in workers:
        scheduler.add_node_collection(worker, collection)
    scheduler.schedule()
    ran: dict[str, str] = {}
    while any(w.queue for w in workers):
        for worker in workers:  # each worker finishes one test in turn
            if worker.queue:
                index = worker.queue.pop(0)
                assert collection[index] not in ran, "a test ran twice"
                ran[collection[index]] = worker.name
                scheduler.mark_test_complete(worker, index)
    assert scheduler.tests_finished
    return scheduler, ran, workers


def test_without_shared_sessions_xdist_schedules_as_usual(
    pytester: pytest.Pytester, fleet: Fleet
) -> None:
    collection = [f"test_a.py::test_{n}" for n in range(400)]
    scheduler, ran, _ = drive(pytester, fleet, collection)
    assert type(scheduler.chosen).__name__ == "LoadScheduling"  # xdist's own
    assert sorted(ran) == sorted(collection)


def test_groups_stay_on_one_worker_and_the_other_tests_go_in_batches(
    pytester: pytest.Pytester, fleet: Fleet
) -> None:
    grouped = [f"test_m.py::test_{n}" for n in range(30)]
    alone = [f"test_a.py::test_{n}" for n in range(400)]
    fleet.write_groups("gw0", {nodeid: "test_m.py" for nodeid in grouped})
    scheduler, ran, workers = drive(pytester, fleet, grouped + alone)
    assert type(scheduler.chosen).__name__ == "SessionScheduling"
    assert sorted(ran) == sorted(grouped + alone)
    assert len({ran[nodeid] for nodeid in grouped}) == 1  # the module's session: one worker
    sizes = Counter(size for w in workers for size in w.messages)
    assert sum(sizes.values()) < len(alone) // 5  # batches, not one test per message
    assert set(ran.values()) == {"gw0", "gw1"}  # and both workers had work
    assert all(not work for work in scheduler.chosen.assigned_work.values())  # books emptied
