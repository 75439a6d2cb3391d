"""The emulator's state: sessions by id, owned by API keys, and every change to them.

This is the one layer that takes the store's lock (moto's "models"): each method reads or
changes sessions atomically and hands back a record or plain values; handlers in `actions`
and the tools only parse, call these and render. The lifecycle rules are in `records`.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..clock import Clock
from ..protocol.lifecycle import ACCEPTS_TOOLS, LISTED, Status
from .expiry import Deadlines
from .ids import Ids
from .images import ImageSpec
from .knobs import Fault, Knobs
from .records import (
    BROWSER_PORT,
    LiveSession,
    NewSession,
    SandboxFactory,
    SandboxLike,
    SessionRecord,
    close_sandboxes,
    refusal,
)
from .reply import ApiError, not_found
from .tasks import Task

GONE = (Status.FINISH, Status.DELETING, Status.DELETED)  # no longer count against a quota


class Store:
    """Sessions, request counts and knobs of one emulator; safe to call from any thread."""

    def __init__(self, *, clock: Clock, ids: Ids, knobs: Knobs, images: dict[str, ImageSpec],
                 factory: SandboxFactory, isolation: str, root: Path | None) -> None:
        self.lock = threading.RLock()
        self.sessions: dict[str, SessionRecord] = {}
        self.images = images
        self.requests: Counter[str] = Counter()
        # action or tool -> wall-clock times of its first and last call: a timeline that
        # other processes (a benchmark, a test of the plugin) can line up with their own
        self.stamps: dict[str, list[float]] = {}
        self.clock, self.ids, self.knobs = clock, ids, knobs
        self.isolation = isolation
        self._factory = factory
        self._root_given, self._root = root, root
        self._root_lock = threading.Lock()
        self.deadlines = Deadlines()

    # -- reading sessions (callers of these two hold `lock`) ------------------------------

    def owned(self, api_key: str | None = None) -> Iterator[SessionRecord]:
        """Sessions in creation order, of one key or all keys."""
        for record in list(self.sessions.values()):
            if api_key is None or record.api_key == api_key:
                yield record

    def find(self, api_key: str, session_id: str, *, finished: bool = False) -> SessionRecord:
        """The caller's session, or InvalidMcpSession.NotFound (also once FINISH, unless asked)."""
        record = self.sessions.get(session_id)
        if record is None or record.api_key != api_key:
            raise not_found()
        if record.status == Status.FINISH and not finished:
            raise not_found()
        return record

    # -- calls --------------------------------------------------------------------------

    def admit(self, action: str, names: Iterable[str], api_key: str,
              session_id: str) -> tuple[Fault | None, float, SessionRecord | None]:
        """Count a call and release the sessions come due (`expiry`); the fault it meets (if
        any), the delay it waits, and the session it names, busy until `done` is called."""
        stamp = time.time()
        with self.lock:
            self.requests[action] += 1
            for name in names:
                self.stamps.setdefault(name, [stamp, stamp])[1] = stamp
            now = self.clock.now()
            expired = self.deadlines.expire(now) if self.deadlines.due(now) else []
            record = self.sessions.get(session_id) if session_id else None
            if record is not None and record.api_key == api_key:
                record.calls, record.active_at = record.calls + 1, now
            else:
                record = None
        close_sandboxes(expired)
        fault = self.knobs.take_fault(names, lambda: self.ids.fraction("fault"))
        return fault, self.knobs.latency_of(action), record

    def done(self, record: SessionRecord) -> None:
        """A call on `record` has ended: it is idle from now."""
        with self.lock:
            record.calls, record.active_at = record.calls - 1, self.clock.now()

    def sweep(self) -> None:
        """Release the sessions whose idle time or runtime is up (`expiry`)."""
        with self.lock:
            expired = self.deadlines.expire(self.clock.now())
        close_sandboxes(expired)

    def create(self, api_key: str, new: NewSession) -> SessionRecord:
        """A RUNNING session, or QuotaExceeded when the key has its quota of sessions."""
        now, limit = self.clock.now(), self.knobs.quota_for(api_key)
        with self.lock:
            occupying = sum(1 for r in self.owned(api_key) if r.status not in GONE)
            if limit is not None and occupying >= limit:
                raise ApiError("QuotaExceeded.McpSession",
                               f"The number of concurrent sessions has reached the quota "
                               f"({limit}) of this API key. Delete a session and try again.")
            ids = self.ids
            record = SessionRecord(
                session_id=ids.session_id(), api_key=api_key, image_id=new.image_id,
                image=new.image, labels=new.labels, resource_id=ids.resource_id(),
                app_instance_id=ids.app_instance_id(), auth_code=ids.secret(),
                region_id=new.region_id, created_at=now, contexts=new.contexts, changed_at=now,
                idle_seconds=new.idle_seconds, runtime_seconds=new.runtime_seconds, active_at=now)
            self.sessions[record.session_id] = record
            self.deadlines.add(record, now)
            return record

    def listing(self, api_key: str, want: Mapping[str, Any]) -> list[tuple[SessionRecord, Status]]:
        """The key's listed sessions matching labels (AND), status and image, as listed now."""
        labels: Mapping[str, str] = want.get("labels") or {}
        found = []
        with self.lock:
            for record in self.owned(api_key):
                status = record.settle(self.clock.now(), self.knobs.settle_seconds,
                                       reporting=True)
                if status not in LISTED:
                    continue
                if want.get("status") and status.value != want["status"]:
                    continue
                if want.get("image_id") and record.image_id != want["image_id"]:
                    continue
                if all(record.labels.get(k) == v for k, v in labels.items()):
                    found.append((record, status))
        return found

    def report(self, api_key: str, session_id: str, *,
               finished: bool) -> tuple[SessionRecord, Status]:
        """The session and the status a status read shows (FINISH only when `finished`)."""
        with self.lock:
            record = self.find(api_key, session_id, finished=finished)
            status = record.settle(self.clock.now(), self.knobs.settle_seconds, reporting=True)
            if status == Status.FINISH and not finished:
                raise not_found()
            return record, status

    def session(self, api_key: str, session_id: str) -> SessionRecord:
        """The caller's live session, settled (not as a status read)."""
        with self.lock:
            record = self.find(api_key, session_id)
            record.settle(self.clock.now(), self.knobs.settle_seconds, reporting=False)
            if record.status == Status.FINISH:
                raise not_found()
            return record

    def move(self, api_key: str, session_id: str, action: str) -> None:
        """Pause, resume or delete per the lifecycle table; a delete closes the sandbox now.
        With no settle time and no delete latency set, a delete is finished at once: the
        first status read already says so (a delete then costs two calls, not a poll);
        with either knob set, status reads show DELETING first, as on the service."""
        with self.lock:
            record = self.session(api_key, session_id)
            record.move(action, self.clock.now())
            sandbox = None
            if action == "DeleteSessionAsync":
                sandbox, record.sandbox = record.sandbox, None
                if not (self.knobs.settle_seconds or self.knobs.latency_of(action)):
                    record.settle(self.clock.now(), 0.0, reporting=False)
        if sandbox is not None:
            close_sandboxes([sandbox])

    def labels(self, api_key: str, session_id: str) -> dict[str, str]:
        """A copy of the session's labels."""
        with self.lock:
            return dict(self.session(api_key, session_id).labels)

    def set_labels(self, api_key: str, session_id: str, labels: dict[str, str]) -> None:
        """Replace the session's labels."""
        with self.lock:
            self.session(api_key, session_id).labels = labels

    def open_browser(self, record: SessionRecord, action: str, *, running: bool) -> int:
        """The browser's port, opened now; `running`: only a RUNNING session may."""
        with self.lock:
            if running and record.status != Status.RUNNING:
                raise refusal(record, action)
            record.browser_port = BROWSER_PORT
            return BROWSER_PORT

    def add_upload(self, api_key: str, session_id: str, item: dict[str, Any]) -> None:
        """Record a finished SyncContext upload."""
        with self.lock:
            record = self.session(api_key, session_id)
            record.synced = [*record.synced, item]

    def uploads(self, record: SessionRecord) -> list[dict[str, Any]]:
        """The session's finished uploads."""
        with self.lock:
            return list(record.synced)

    def allow_tools(self, record: SessionRecord, tool: str) -> None:
        """Refuse `tool` unless the session's status lets it run tools."""
        with self.lock:
            if record.status not in ACCEPTS_TOOLS:
                raise refusal(record, f"running tool {tool}")

    def start_task(self, record: SessionRecord, text: str, kind: str) -> Task:
        """Start an agent task, scripted by the first rule matching its text."""
        rule = self.knobs.rule_for(text)
        return record.tasks.start(self.ids.task_id(), text, kind, rule, self.clock.now())

    def poll_task(self, record: SessionRecord, task_id: str) -> dict[str, Any] | None:
        """One status poll of a task (None: unknown id)."""
        return record.tasks.poll(task_id, self.clock.now(), self.knobs.task_seconds)

    def next_code_run(self, record: SessionRecord) -> int:
        """Count one more run_code in the session: its execution_count (1, 2, ...)."""
        with self.lock:
            record.code_runs += 1
            return record.code_runs

    def wait(self, name: str) -> None:
        """Sleep the latency set for `name` on the emulator clock."""
        delay = self.knobs.latency_of(name)
        if delay > 0:
            self.clock.sleep(delay)

    # -- sandboxes ----------------------------------------------------------------------

    def sandbox_for(self, record: SessionRecord) -> SandboxLike:
        """The session's sandbox, made on first use; refused unless the session runs tools."""
        with record.sandbox_lock:
            with self.lock:
                if record.status not in ACCEPTS_TOOLS:
                    raise refusal(record, "CallMcpTool")
                if record.sandbox is not None:
                    return record.sandbox
            sandbox = self._factory(self._sandbox_root(), record.session_id, self.isolation)
            with self.lock:
                if record.status in ACCEPTS_TOOLS:
                    record.sandbox = sandbox
                    return sandbox
        sandbox.close()  # deleted while it was being made
        raise not_found()

    def _sandbox_root(self) -> Path:
        with self._root_lock:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="agentbay-emulator-"))
            return self._root

    # -- the whole store ----------------------------------------------------------------

    def live(self, api_key: str | None = None) -> list[LiveSession]:
        """Sessions not yet finished, of one key or of all."""
        with self.lock:
            return [LiveSession(r.session_id, r.image_id, r.status.value, dict(r.labels))
                    for r in self.owned(api_key) if r.status != Status.FINISH]

    def describe(self) -> dict[str, Any]:
        """Counts and knob settings (no keys, no secrets)."""
        with self.lock:
            statuses = Counter(r.status.value for r in self.owned())
            return {
                "sessions": dict(statuses),
                "live": sum(n for s, n in statuses.items() if s != Status.FINISH.value),
                "tenants": len({r.api_key for r in self.owned()}),
                "requests": dict(self.requests),
                "stamps": {name: list(times) for name, times in self.stamps.items()},
                "isolation": self.isolation,
                "knobs": self.knobs.describe(),
            }

    def clear_requests(self) -> None:
        """Forget the request counts."""
        with self.lock:
            self.requests.clear()
            self.stamps.clear()

    def close(self) -> None:
        """Finish every session, kill its commands and remove its files."""
        sandboxes = []
        with self.lock:
            now = self.clock.now()
            self.deadlines.clear()
            for record in self.sessions.values():
                if record.status != Status.FINISH:
                    record.status, record.changed_at, record.unseen = Status.FINISH, now, False
                if record.sandbox is not None:
                    sandboxes.append(record.sandbox)
                    record.sandbox = None
        close_sandboxes(sandboxes)
        with self._root_lock:
            if self._root is not None and self._root_given is None:
                shutil.rmtree(self._root, ignore_errors=True)
                self._root = None
