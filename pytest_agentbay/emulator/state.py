"""The emulator's store: sessions by id, owned by API keys, moving through the lifecycle table.

Status rules (one table, `protocol.lifecycle`): an accepted Pause/Resume/Delete changes the
status at once, so the very next poll sees PAUSING/RESUMING/DELETING. A transitional status
settles (PAUSED/RUNNING/FINISH) once `settle_seconds` have passed on the emulator clock and a
status read (GetSession, GetSessionDetail, ListSession) has shown it at least once; any other
call on the session settles it without that condition. A FINISH session is gone for every
action except GetSessionDetail.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..protocol.lifecycle import LISTED, SETTLES, Status, next_status
from .images import ImageSpec
from .reply import ApiError, not_found
from .tasks import TaskBook


class RunResultLike(Protocol):
    """What a sandbox returns from a command (see `sandbox.RunResult`)."""

    @property
    def stdout(self) -> str: ...
    @property
    def stderr(self) -> str: ...
    @property
    def exit_code(self) -> int: ...
    @property
    def timed_out(self) -> bool: ...
    @property
    def truncated(self) -> bool: ...


class SandboxLike(Protocol):
    """What the emulator needs from a session's sandbox (see `sandbox.Sandbox`)."""

    def run(
        self,
        command: str,
        *,
        timeout_ms: int,
        cwd: str | None = None,
        envs: Mapping[str, str] | None = None,
    ) -> RunResultLike: ...

    def close(self) -> None: ...


SandboxFactory = Callable[[Path, str, str], SandboxLike]  # (root, name, isolation)


@dataclass(eq=False)
class SessionRecord:
    """One session as the service holds it."""

    session_id: str
    api_key: str = field(repr=False)
    image_id: str
    image: ImageSpec
    labels: dict[str, str]
    resource_id: str
    app_instance_id: str
    auth_code: str = field(repr=False)
    region_id: str
    created_at: float
    contexts: list[dict[str, str]] = field(default_factory=list)  # PersistenceDataList items
    synced: list[dict[str, Any]] = field(default_factory=list)  # SyncContext uploads
    status: Status = Status.RUNNING
    changed_at: float = 0.0
    unseen: bool = False  # a transitional status no status read has shown yet
    browser_port: int | None = None
    tasks: TaskBook = field(default_factory=TaskBook)
    sandbox: SandboxLike | None = None
    sandbox_lock: threading.Lock = field(default_factory=threading.Lock)

    def settle(self, now: float, settle_seconds: float, *, reporting: bool) -> Status:
        """Apply the settle rule and return the status a caller sees now."""
        target = SETTLES.get(self.status)
        shown = not (reporting and self.unseen)
        if target is not None and shown and now - self.changed_at >= settle_seconds:
            self.status, self.changed_at, self.unseen = target, now, False
        if reporting:
            self.unseen = False
        return self.status

    def move(self, action: str, now: float) -> Status:
        """Accept `action` per the lifecycle table, or raise the service-style refusal."""
        new = next_status(self.status, action)
        if new is None:
            raise refusal(self, action)
        if new != self.status:
            self.status, self.changed_at, self.unseen = new, now, new in SETTLES
        return new


def refusal(record: SessionRecord, action: str) -> ApiError:
    """The error for an action the session's status does not allow."""
    status = record.status.value
    if record.status in (Status.PAUSED, Status.PAUSING):
        return ApiError(
            "InvalidMcpSession.Paused",
            f"Session {record.session_id} is {status}; resume it before {action}.",
        )
    return ApiError(
        "InvalidMcpSession.StatusNotSupported",
        f"Session {record.session_id} is {status}; {action} is not allowed in this status.",
    )


class Store:
    """Sessions by id. Callers hold `lock` around every read or change."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.sessions: dict[str, SessionRecord] = {}

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

    def occupying(self, api_key: str) -> int:
        """How many sessions count against the key's quota (deleting ones no longer do)."""
        gone = (Status.FINISH, Status.DELETING, Status.DELETED)
        return sum(1 for record in self.owned(api_key) if record.status not in gone)

    def listing(
        self, api_key: str, now: float, settle_seconds: float, want: Mapping[str, Any]
    ) -> list[SessionRecord]:
        """The key's listed sessions matching labels (AND), status and image filters."""
        labels: Mapping[str, str] = want.get("labels") or {}
        found = []
        for record in self.owned(api_key):
            status = record.settle(now, settle_seconds, reporting=True)
            if status not in LISTED:
                continue
            if want.get("status") and status.value != want["status"]:
                continue
            if want.get("image_id") and record.image_id != want["image_id"]:
                continue
            if all(record.labels.get(k) == v for k, v in labels.items()):
                found.append(record)
        return found

    def finish_all(self, now: float) -> list[SandboxLike]:
        """Mark every session finished; return their sandboxes for the caller to close."""
        sandboxes = []
        for record in self.sessions.values():
            if record.status != Status.FINISH:
                record.status, record.changed_at, record.unseen = Status.FINISH, now, False
            if record.sandbox is not None:
                sandboxes.append(record.sandbox)
                record.sandbox = None
        return sandboxes
