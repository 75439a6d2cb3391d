"""Creating sessions ahead of time: the run's owner (the xdist controller, or a lone pytest
process) creates the sessions collection says the tests will need, a few at once, so a test
usually finds its session ready instead of waiting a create latency.

The plan (which node needs a session, with which parameters) is written at collection time;
each pre-created session waits in the fleet directory under its node id and parameters until
the test that needs it claims it and relabels it as its own. Sessions nobody claims are deleted
at the end.

Under xdist the plan is known only once a worker has collected, a few seconds into the run; so
the controller may start from a guess (the first entries of the same command's plan in the
last run, from pytest's cache) while the workers start, then switch to the real plan: a guessed
session the real plan also has (same node, same parameters) is kept for its test, the others
become spares, deleted at the end like any unclaimed session.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..labels import WORKER_LABEL
from ..models.params import CreateSessionParams
from ..models.results import SessionData, SessionResult
from .fleet import in_flight
from .params import overridden
from .scopes import owner_node, used_by

if TYPE_CHECKING:
    from .leases import Leases

POOL_WORKER = "pool"  # worker label of a pre-created session nobody has claimed yet
CLAIM_TIMEOUT_S = 120.0
Node = pytest.Item | pytest.Collector
Create = Callable[[CreateSessionParams], SessionResult[Any]]
ParamsFor = Callable[[Node], CreateSessionParams]


def plan_of(items: list[pytest.Item], params_for: ParamsFor, by_size: bool) -> list[dict[str, Any]]:
    """The sessions these tests need, in the order they will be needed: first use, or (under
    xdist's scheduler, which hands out the largest groups first) group size, then first use."""
    if any("agentbay_emulator" in getattr(item, "fixturenames", ()) for item in items):
        return []  # knobs (quota, one-off faults) a test sets would also hit creates made ahead
    plan: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(items):
        for use in used_by(item):
            node = owner_node(item, use.owner) if use.ahead and use.owner else None
            if node is None or overridden(item):  # its settings come from a fixture, at setup
                continue
            key = node.nodeid
            if key not in plan:
                params = _params(params_for, node)
                plan[key] = {"key": key, "first": index, "size": 0, "params": params}
            plan[key]["size"] += 1
    order = sorted(plan.values(), key=lambda e: (-e["size"] if by_size else 0, e["first"]))
    return [{"key": e["key"], "params": e["params"]} for e in order]


def _params(params_for: ParamsFor, node: Node) -> dict[str, Any]:
    params = params_for(node)
    return params.model_copy(
        update={"labels": {**params.labels, WORKER_LABEL: POOL_WORKER}}
    ).model_dump(mode="json", exclude_none=True)


def _slot(directory: Path, key: str, params: dict[str, Any]) -> Path:
    """The files of `key`'s pre-created session: named by its node id and its parameters
    (labels aside: the claiming test sets its own), so a guessed session whose parameters
    changed since the last run is never handed to the test."""
    fields = json.dumps({k: v for k, v in params.items() if k != "labels"}, sort_keys=True,
                        default=str)
    return directory / ("pool-" + hashlib.sha1(f"{key}\0{fields}".encode()).hexdigest()[:16])


def slot_of(entry: dict[str, Any], directory: Path) -> Path:
    """`_slot` of a plan entry."""
    return _slot(directory, entry["key"], entry["params"])


def slot_for(directory: Path, node_id: str, params: CreateSessionParams) -> Path:
    """`_slot` of the session a test about to create one with `params` may claim."""
    return _slot(directory, node_id, params.model_dump(mode="json", exclude_none=True))


class Planner:
    """Creates the planned sessions in plan order, keeping at most `ahead` sessions made (or
    being made) and not yet claimed, or being deleted: look-ahead, not the whole suite at once."""

    def __init__(self, create: Create, directory: Path, ahead: int) -> None:
        self.create = create  # makes a session that the test claiming it will own
        self.directory = directory  # the fleet's: slot files, and markers of deletes under way
        self.ahead = ahead
        self.pool = concurrent.futures.ThreadPoolExecutor(ahead, "agentbay-planner")
        self.stop = threading.Event()
        self.feeder: threading.Thread | None = None
        self.guessed: list[Path] | None = None  # slots of a guessed plan, until the real one
        self.spares: set[Path] = set()  # guessed slots the real plan does not have
        self.lock = threading.Lock()  # a create ending vs. the real plan making it a spare

    def start(self, plan: list[dict[str, Any]], guess: bool = False) -> None:
        """Mark every planned session queued (claims then know to look), and start feeding;
        after a `guess`, the real plan takes over (guessed sessions it lacks are spares)."""
        self._stop_feeder()
        slots = [slot_of(entry, self.directory) for entry in plan]
        if self.guessed is not None:
            self._spare(set(self.guessed) - set(slots))
        self.guessed = slots if guess else None
        for slot in slots:
            if not any(slot.with_suffix(s).exists() for s in (".pending", ".json", ".spare")):
                slot.with_suffix(".queued").touch()
        self.stop.clear()
        self.feeder = threading.Thread(target=self._feed, args=(plan,), name="agentbay-plan")
        self.feeder.start()

    def _stop_feeder(self) -> None:
        if self.feeder is not None:
            self.stop.set()
            self.feeder.join()
            self.feeder = None

    def _spare(self, slots: set[Path]) -> None:
        """Guessed slots nobody will claim: not created if not started, else kept apart (out
        of the look-ahead count) for the end-of-run deletion."""
        with self.lock:
            self.spares |= slots
            for slot in slots:
                slot.with_suffix(".queued").unlink(missing_ok=True)
                if slot.with_suffix(".json").exists():
                    slot.with_suffix(".json").replace(slot.with_suffix(".spare"))

    def _feed(self, plan: list[dict[str, Any]]) -> None:
        for entry in plan:
            while in_flight(self.directory) >= self.ahead:
                if self.stop.wait(0.01):
                    return
            if self.stop.is_set():
                return
            slot = slot_of(entry, self.directory)
            try:  # a test that got here first took it and creates its own
                slot.with_suffix(".queued").rename(slot.with_suffix(".pending"))
            except FileNotFoundError:
                continue
            self.pool.submit(self._create, entry)

    def _create(self, entry: dict[str, Any]) -> None:
        result = self.create(CreateSessionParams(**entry["params"]))
        record: dict[str, Any] = {
            "success": result.success,
            "error_message": result.error_message,
            "code": result.code,
            "request_id": result.request_id,
        }
        if result.session is not None:
            record["data"] = {
                "session_id": result.session.session_id,
                "image_id": result.session.image_id,
                "resource_url": result.session.resource_url,
            }
        slot = slot_of(entry, self.directory)
        slot.with_suffix(".tmp").write_text(json.dumps(record))
        with self.lock:
            done = ".spare" if slot in self.spares else ".json"
            slot.with_suffix(".tmp").replace(slot.with_suffix(done))
            slot.with_suffix(".pending").unlink(missing_ok=True)

    def unclaimed(self) -> list[str]:
        """Stop creating; the ids of pre-created sessions no test claimed (to delete)."""
        self.stop.set()
        if self.feeder is not None:
            self.feeder.join()
        self.pool.shutdown(wait=True)
        ids = []
        for path in self.directory.glob("pool-*"):
            if path.suffix in (".json", ".spare"):
                data = json.loads(path.read_text()).get("data")
                if data:
                    ids.append(data["session_id"])
            path.unlink(missing_ok=True)
        return ids


def claim(leases: Leases, node: Node, params: CreateSessionParams) -> Any:
    """The pre-created session planned for `node`, relabelled as `params` says; None when there
    is none (the caller creates one). A create that failed ahead of time is a setup error."""
    slot = slot_for(leases.fleet.path, node.nodeid, params)
    deadline = time.monotonic() + CLAIM_TIMEOUT_S
    while not slot.with_suffix(".json").exists():
        try:  # not started yet: take it off the plan and create at once instead of waiting
            slot.with_suffix(".queued").rename(slot.with_suffix(".taken"))
            return None
        except FileNotFoundError:
            pass
        if time.monotonic() > deadline:
            return None
        if not slot.with_suffix(".pending").exists():
            # the creator writes .json before it removes .pending: between our two looks it
            # may have done both, so look at .json again before creating one of our own
            if not slot.with_suffix(".json").exists():
                return None
            break
        time.sleep(0.01)
    try:
        taken = slot.with_suffix(".json").rename(slot.with_suffix(".claimed"))
    except FileNotFoundError:  # another process took it: should not happen, but be safe
        return None
    record = json.loads(taken.read_text())
    taken.unlink()
    made = record.get("data") or {}  # the create's line in the claiming test's log
    outcome = "created" if record["success"] else f"{record['code']}: {record['error_message']}"
    leases.tracker.note(
        "CreateMcpSession", made.get("session_id", ""), record["request_id"] or "", outcome
    )
    if not record["success"]:  # the test's create failed ahead of time: report it as ever
        failed: SessionResult[Any] = SessionResult(
            **{k: v for k, v in record.items() if k != "data"}
        )
        leases.checked(failed, node, params)
    session = leases.client.session(SessionData(**record["data"]))
    session.set_labels(params.labels)  # the test's own labels: run, worker, test, created
    leases.tracker.alive[session.session_id] = time.monotonic()
    return session
