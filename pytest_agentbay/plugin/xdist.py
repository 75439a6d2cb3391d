"""pytest-xdist support, registered only when xdist is active: one backend, run id and fleet
directory for every worker; a scheduler that keeps tests sharing a session on one worker; the
first sessions of the last run's plan created while the workers start; the workers' figures
summed on the controller; and the sessions of a crashed worker deleted.
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


PLAN_CACHE = "agentbay/plan"  # pytest's cache: the first sessions the last run planned


def _command(config: pytest.Config) -> list[str]:
    """What a plan depends on besides the test files: the directory and the arguments."""
    return [str(config.invocation_params.dir), *config.invocation_params.args]


def last_plan(config: pytest.Config) -> list[dict[str, Any]]:
    """The first planned sessions of the last run of the same command; none without a cache
    (`-p no:cacheprovider`) or after another command (`-k`, other files: other sessions)."""
    cache = getattr(config, "cache", None)
    last = cache.get(PLAN_CACHE, None) if cache is not None else None
    if not isinstance(last, dict) or last.get("command") != _command(config):
        return []
    return list(last.get("plan", []))


def remember_plan(config: pytest.Config, plan: list[dict[str, Any]]) -> None:
    """Keep `plan` for the next run's guess."""
    cache = getattr(config, "cache", None)
    if cache is not None:
        cache.set(PLAN_CACHE, {"command": _command(config), "plan": plan})


MAX_BATCH = 25  # tests that share no session go to a worker this many at a time, at most
BATCH = "agentbay-batch:"  # unit names of such batches (never a node id: no "::")


def make_scheduler_class() -> type:
    """A LoadScope scheduler whose units are our session groups, and batches of the other tests;
    its bookkeeping costs O(1) per finished test (LoadScope's grows with the tests run)."""
    from xdist.scheduler import LoadScopeScheduling

    class SessionScheduling(LoadScopeScheduling):  # type: ignore[misc]
        """Tests sharing a class/module session form one unit of work; the others go in small
        batches, as xdist's `load` sends them."""

        def __init__(self, config: pytest.Config, log: Any, groups: dict[str, str]) -> None:
            super().__init__(config, log)
            self.units = dict(groups)  # node id -> its unit
            self.left: dict[str, int] = {}  # unit -> its tests not finished yet
            self.index: dict[Any, dict[str, int]] = {}  # worker -> node id -> its index

        def _split_scope(self, nodeid: str) -> str:
            return self.units.get(nodeid, nodeid)

        def schedule(self) -> None:
            if self.collection is None and self.registered_collections:
                self._batch(next(iter(self.registered_collections.values())))
            super().schedule()

        def _batch(self, collection: list[str]) -> None:
            alone = [nodeid for nodeid in collection if nodeid not in self.units]
            size = max(1, min(MAX_BATCH, len(alone) // (4 * max(1, len(self.nodes)))))
            for position, nodeid in enumerate(alone):
                self.units[nodeid] = f"{BATCH}{position // size}"

        def _assign_work_unit(self, node: Any) -> None:
            scope, unit = self.workqueue.popitem(last=False)
            self.assigned_work.setdefault(node, {})[scope] = unit
            todo = [nodeid for nodeid, done in unit.items() if not done]
            self.left[scope] = len(todo)
            if node not in self.index:
                self.index[node] = {n: i for i, n in enumerate(self.registered_collections[node])}
            node.send_runtest_some([self.index[node][nodeid] for nodeid in todo])

        def mark_test_complete(self, node: Any, item_index: int, duration: float = 0) -> None:
            nodeid = self.registered_collections[node][item_index]
            scope = self._split_scope(nodeid)
            unit = self.assigned_work[node][scope]
            if not unit[nodeid]:
                unit[nodeid] = True
                self.left[scope] -= 1
            if not self.left[scope]:  # finished units leave the books: counts stay small
                del self.assigned_work[node][scope]
            self._reschedule(node)

        def _pending_of(self, workload: dict[str, dict[str, bool]]) -> int:
            return sum(self.left.get(scope, 0) for scope in workload)

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


class AgentBayScheduling:
    """xdist's own `load` scheduler, unless a collected test uses a class or module session
    that must stay on one worker: then `SessionScheduling`. The choice waits for the workers'
    collections (the controller collects nothing), so until then nodes and collections are
    only remembered; afterwards every call goes to the chosen scheduler."""

    def __init__(self, config: pytest.Config, log: Any, fleet: Fleet) -> None:
        from xdist import workermanage

        # pytest-xdist 3.6 renamed parse_spec_config; the floor (3.5) has the old name
        parse = getattr(workermanage, "parse_tx_spec_config", None)
        parse = parse or workermanage.parse_spec_config
        self.config, self.log, self.fleet = config, log, fleet
        self.numnodes = len(parse(config))
        self.waiting: list[Any] = []  # nodes, before the choice
        self.collections: dict[Any, list[str]] = {}
        self.chosen: Any = None

    @property
    def nodes(self) -> list[Any]:
        return self.chosen.nodes if self.chosen else list(self.waiting)

    @property
    def collection_is_completed(self) -> bool:
        if self.chosen:
            return self.chosen.collection_is_completed  # type: ignore[no-any-return]
        return len(self.collections) >= self.numnodes

    @property
    def tests_finished(self) -> bool:
        return bool(self.chosen and self.chosen.tests_finished)

    @property
    def has_pending(self) -> bool:
        return bool(self.chosen and self.chosen.has_pending)

    def add_node(self, node: Any) -> None:
        self.chosen.add_node(node) if self.chosen else self.waiting.append(node)

    def add_node_collection(self, node: Any, collection: Any) -> None:
        if self.chosen:
            self.chosen.add_node_collection(node, collection)
        else:
            self.collections[node] = list(collection)

    def remove_node(self, node: Any) -> str | None:
        if self.chosen:
            return self.chosen.remove_node(node)  # type: ignore[no-any-return]
        self.waiting.remove(node)
        self.collections.pop(node, None)
        return None

    def schedule(self) -> None:
        if self.chosen is None:
            self.chosen = self._choose()
        self.chosen.schedule()

    def _choose(self) -> Any:
        from xdist.scheduler import LoadScheduling

        groups = self.fleet.read_groups()
        chosen = make_scheduler_class()(self.config, self.log, groups) if groups else None
        chosen = chosen or LoadScheduling(self.config, self.log)
        for node in self.waiting:
            chosen.add_node(node)
        for node, collection in self.collections.items():
            chosen.add_node_collection(node, collection)
        return chosen

    def mark_test_complete(self, node: Any, item_index: int, duration: float = 0) -> None:
        self.chosen.mark_test_complete(node, item_index, duration)

    def mark_test_pending(self, item: str) -> None:
        self.chosen.mark_test_pending(item)

    def remove_pending_tests_from_node(self, node: Any, indices: Any) -> None:
        self.chosen.remove_pending_tests_from_node(node, indices)


class XdistHooks:
    """Controller-side and worker-side hooks; `Run` holds the state they share."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.remembered = False  # this run's plan is in the cache for the next run
        self.guessing = False  # the controller is creating sessions of the last run's plan

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
            return AgentBayScheduling(config, log, self.run.fleet)
        return None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """On the controller, before the workers start (xdist starts them last): begin creating
        the first sessions of this command's plan in the last run, so their create latency
        overlaps the workers' start-up; the real plan takes over when a worker has collected."""
        if self.run.settings.uses_xdist and not self.run.settings.is_worker:
            guess = last_plan(session.config)
            if guess:
                self.guessing = True
                self.run.leases.start_planner(guess, guess=True)

    def pytest_xdist_node_collection_finished(self, node: Any, ids: Any) -> None:
        """The first worker's collection is in: create the sessions it plans (and remember
        the first of them for the next run's guess)."""
        plan = self.run.fleet.read_plan(node.workerinput["workerid"])
        if not self.remembered:
            self.remembered = True
            remember_plan(self.run.config, plan[: self.run.settings.precreate])
        if plan or self.guessing:  # (else no leases, client or backend are needed for it)
            self.run.leases.start_planner(plan)  # the real plan; guessed extras become spares

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """Sum the worker's figures; if it died, delete the sessions it left."""
        stats = getattr(node, "workeroutput", {}).get("agentbay_stats")
        worker = node.workerinput["workerid"]
        if stats:
            self.run.merge_stats(worker, stats)
        self.run.fleet.unregister_pid(worker)  # its id may be another process's next
        if error is not None and self.run.backend is not None:
            deleted = self.run.sweep(worker=worker)
            self.run.crashed[worker] = deleted
