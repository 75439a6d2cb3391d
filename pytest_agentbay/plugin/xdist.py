"""pytest-xdist support, registered only when xdist is active: one backend, run id and fleet
directory for every worker; a scheduler that keeps tests sharing a session on one worker; the
workers' figures summed on the controller; and the sessions of a crashed worker deleted.
"""

from __future__ import annotations

from typing import Any

import pytest

from .fleet import Fleet
from .run import Run
from .scopes import used_by


def groups_of(items: list[pytest.Item]) -> dict[str, str]:
    """node id -> the class or module whose shared session the test uses."""
    groups = {}
    for item in items:
        scopes = {u.owner for u in used_by(item) if u.owner in ("class", "module")}
        if scopes:
            node = item.getparent(pytest.Module if "module" in scopes else pytest.Class)
            groups[item.nodeid] = node.nodeid if node is not None else item.nodeid
    return groups


def make_scheduler_class() -> type:
    """A LoadScope scheduler whose scopes are our session groups (single tests otherwise)."""
    from xdist.scheduler import LoadScopeScheduling

    class SessionScheduling(LoadScopeScheduling):  # type: ignore[misc]
        """Tests sharing a class/module session form one unit of work; others balance alone."""

        def __init__(self, config: pytest.Config, log: Any = None, fleet: Fleet | None = None):
            super().__init__(config, log)
            self.fleet = fleet
            self.groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:
                self.groups = self.fleet.read_groups() if self.fleet else {}
            return self.groups.get(nodeid, nodeid)

        def remove_node(self, node: Any) -> str | None:
            """As LoadScope's, but the test that crashed a worker is reported, not run again
            (LoadScope requeues it with its unit, so it crashes worker after worker)."""
            workload: dict[str, dict[str, bool]] = self.assigned_work.pop(node)
            pending = [
                (s, n) for s, unit in workload.items() for n, done in unit.items() if not done
            ]
            if not pending:
                return None
            scope, crashed = pending[0]
            del workload[scope][crashed]
            self.workqueue.update({s: u for s, u in workload.items() if not all(u.values())})
            for other in self.assigned_work:
                self._reschedule(other)
            return crashed

    return SessionScheduling


class XdistHooks:
    """Controller-side and worker-side hooks; `Run` holds the state they share."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def pytest_configure_node(self, node: Any) -> None:
        """Workers (replacements of crashed ones too) reach this run's backend and fleet."""
        node.workerinput["agentbay_run_id"] = self.run.tracker.run_id
        node.workerinput["agentbay_shard_id"] = self.run.tracker.shard_id
        node.workerinput["agentbay_fleet"] = str(self.run.fleet.path)
        if self.run.backend is not None:
            node.workerinput["agentbay_backend"] = self.run.backend.shared()

    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        """Shard by session unless turned off or another --dist mode was asked for."""
        if self.run.settings.shard and config.getoption("dist") == "load":
            return make_scheduler_class()(config, log, self.run.fleet)
        return None

    def pytest_xdist_node_collection_finished(self, node: Any, ids: Any) -> None:
        """The first worker's collection is in: start creating the sessions it plans."""
        self.run.leases.start_planner(self.run.fleet.read_plan(node.workerinput["workerid"]))

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """Sum the worker's figures; if it died, delete the sessions it left."""
        stats = getattr(node, "workeroutput", {}).get("agentbay_stats")
        worker = node.workerinput["workerid"]
        if stats:
            self.run.merge_stats(worker, stats)
        self.run.fleet.unregister_pid(worker)  # its id may be another process's next
        if error is not None and self.run.backend is not None:
            deleted = self.run.leases.sweep(worker=worker)
            self.run.crashed[worker] = deleted
