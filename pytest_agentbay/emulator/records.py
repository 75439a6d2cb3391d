"""A session as the emulator holds it, and what it needs from a sandbox (plain data, no locks).

Status rules (one table, `protocol.lifecycle`): an accepted Pause/Resume/Delete changes the
status at once, so the very next poll sees PAUSING/RESUMING/DELETING. A transitional status
settles (PAUSED/RUNNING/FINISH) once `settle_seconds` have passed on the emulator clock and a
status read (GetSession, GetSessionDetail, ListSession) has shown it at least once; any other
call on the session settles it without that condition. A delete with no settle time and no
delete latency set finishes at once (`Store.move`). A FINISH session is gone for every
action except GetSessionDetail. `state.Store` applies these rules under its lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..protocol.lifecycle import SETTLES, Status, next_status
from .images import ImageSpec
from .reply import ApiError
from .tasks import TaskBook

log = logging.getLogger(__name__)
TIMEOUT_EXIT_CODE = 124  # what a timed-out command reports, as `timeout(1)` does
BROWSER_PORT = 9222  # the port InitBrowser and `browser_use_initialize` answer


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

    def call_agent(self, argv: Sequence[str], request: bytes, *, timeout_ms: int) -> bytes: ...

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
    code_runs: int = 0  # run_code calls so far: the next one's execution_count is this + 1
    idle_seconds: float = 0.0  # released after this long with no call naming it (0: never)
    runtime_seconds: float = 0.0  # released this long after creation (0: never)
    active_at: float = 0.0  # when the last call naming it arrived or ended
    calls: int = 0  # calls naming it under way: it is not idle while one runs
    end_reason: str = ""  # why the service released it, when it did (see `expiry`)
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


@dataclass(frozen=True)
class LiveSession:
    """A session that is alive (not finished), as tests see it."""

    session_id: str
    image_id: str
    status: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class NewSession:
    """What CreateMcpSession asks for, parsed."""

    image_id: str
    image: ImageSpec
    labels: dict[str, str]
    contexts: list[dict[str, str]]
    region_id: str
    idle_seconds: float = 0.0
    runtime_seconds: float = 0.0


def close_sandboxes(sandboxes: Iterable[SandboxLike]) -> None:
    """Close sandboxes, carrying on past any that fail."""
    for sandbox in sandboxes:
        try:
            sandbox.close()
        except Exception:
            log.exception("closing a sandbox failed")
