"""The emulator: one core that answers AgentBay API calls, whichever way they came in."""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..clock import SYSTEM_CLOCK, Clock
from ..protocol.lifecycle import ACCEPTS_TOOLS, Status
from .actions import ACTIONS
from .ids import Ids
from .images import BUILTIN_IMAGES, ImageSpec
from .knobs import THROTTLING_CODE, THROTTLING_MESSAGE, Fault, Knobs
from .reply import ApiError, Reply, failure, missing, not_found, not_login, success
from .state import SandboxFactory, SandboxLike, SessionRecord, Store, refusal
from .tasks import TaskRule
from .wire import MAX_BODY_BYTES, parse_params, too_large

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveSession:
    """A session that is alive (not finished), as tests see it."""

    session_id: str
    image_id: str
    status: str
    labels: Mapping[str, str]


def _default_factory() -> tuple[SandboxFactory, Callable[[], str]]:
    from . import sandbox  # the runner is only needed once a command runs

    return sandbox.Sandbox, sandbox.detect_isolation


class Emulator:
    """AgentBay API state plus knobs. `handle` is the one entry point for both adapters."""

    def __init__(
        self,
        *,
        api_keys: Iterable[str] | None = None,
        clock: Clock | None = None,
        seed: int | None = None,
        settle_seconds: float = 0.0,
        task_seconds: float = 0.0,
        images: Mapping[str, ImageSpec] | None = None,
        root: Path | str | None = None,
        isolation: str | None = None,
        sandbox_factory: SandboxFactory | None = None,
    ) -> None:
        self._api_keys = frozenset(api_keys) if api_keys is not None else None
        self.clock: Clock = clock or SYSTEM_CLOCK
        self.ids = Ids(seed)
        self.images: dict[str, ImageSpec] = {**BUILTIN_IMAGES, **(images or {})}
        self.store = Store()
        self._defaults = (float(settle_seconds), float(task_seconds), seed)
        self.knobs = Knobs(settle_seconds=settle_seconds, task_seconds=task_seconds)
        self.requests: Counter[str] = Counter()
        if sandbox_factory is None:
            sandbox_factory, detect = _default_factory()
            isolation = isolation or detect()
        self._factory = sandbox_factory
        self.isolation: str = isolation or "directories"
        self._root_given = Path(root) if root is not None else None
        self._root: Path | None = self._root_given
        self._root_lock = threading.Lock()

    # -- the one core -------------------------------------------------------------------

    def handle(self, params: Mapping[str, str], *, body_size: int = 0) -> Reply:
        """Answer one API call given its merged query and form parameters."""
        request_id = self.ids.request_id()
        try:
            return success(request_id, self._dispatch(params, body_size))
        except ApiError as error:
            return failure(request_id, error)
        except Exception:  # a bug must cost one request, never the server
            log.exception("emulator failed on action %s", params.get("Action", "?"))
            internal = ApiError("InternalError", "The emulator failed on this request.", 500)
            return failure(request_id, internal)

    def handle_raw(self, query: str, body: bytes | None, *, body_size: int) -> Reply:
        """Answer a request from its raw query string and form body (None: too large, unread)."""
        if body is None or body_size > MAX_BODY_BYTES:
            return failure(self.ids.request_id(), too_large(body_size))
        try:
            params = parse_params(query, body)
        except ApiError as error:
            return failure(self.ids.request_id(), error)
        return self.handle(params, body_size=body_size)

    def _dispatch(self, params: Mapping[str, str], body_size: int) -> Any:
        if body_size > MAX_BODY_BYTES:
            raise too_large(body_size)
        action = params.get("Action", "")
        if not action:
            raise missing("Action")
        handler = ACTIONS.get(action)
        if handler is None:
            raise ApiError(
                "InvalidAction.NotFound",
                "Specified api is not found, please check your url and method.",
                404,
            )
        api_key = self.authenticate(params.get("Authorization"))
        names = {action}
        if action == "CallMcpTool":
            names.add(params.get("Name", ""))
        with self.store.lock:
            self.requests[action] += 1
            fault = self.knobs.take_fault(names, lambda: self.ids.fraction("fault"))
            delay = self.knobs.latency.get(action, 0.0)
        if fault is not None:
            raise fault.error()
        if delay > 0:
            self.clock.sleep(delay)
        return handler(self, api_key, params)

    def authenticate(self, authorization: str | None) -> str:
        """The API key of `Bearer <key>`, or NOT_LOGIN."""
        scheme, _, key = (authorization or "").partition(" ")
        key = key.strip()
        if scheme != "Bearer" or not key:
            raise not_login()
        if self._api_keys is not None and key not in self._api_keys:
            raise not_login()
        return key

    # -- sessions and sandboxes ---------------------------------------------------------

    def now(self) -> float:
        """The emulator clock's time."""
        return self.clock.now()

    def session(self, api_key: str, session_id: str) -> SessionRecord:
        """The caller's live session, settled (not as a status read)."""
        with self.store.lock:
            record = self.store.find(api_key, session_id)
            record.settle(self.now(), self.knobs.settle_seconds, reporting=False)
            if record.status == Status.FINISH:
                raise not_found()
            return record

    def sandbox_for(self, record: SessionRecord) -> SandboxLike:
        """The session's sandbox, made on first use; refused unless the session runs tools."""
        with record.sandbox_lock:
            with self.store.lock:
                if record.status not in ACCEPTS_TOOLS:
                    raise refusal(record, "CallMcpTool")
                if record.sandbox is not None:
                    return record.sandbox
            sandbox = self._factory(self._sandbox_root(), record.session_id, self.isolation)
            with self.store.lock:
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

    @staticmethod
    def close_sandboxes(sandboxes: Iterable[SandboxLike]) -> None:
        """Close sandboxes, carrying on past any that fail."""
        for sandbox in sandboxes:
            try:
                sandbox.close()
            except Exception:
                log.exception("closing a sandbox failed")

    def live_sessions(self, api_key: str | None = None) -> list[LiveSession]:
        """Sessions not yet finished, of one key or of all: for assertions about leaks."""
        with self.store.lock:
            return [
                LiveSession(r.session_id, r.image_id, r.status.value, dict(r.labels))
                for r in self.store.owned(api_key)
                if r.status != Status.FINISH
            ]

    def state(self) -> dict[str, Any]:
        """Counts and knob settings (no keys, no secrets): the control endpoint's GET."""
        with self.store.lock:
            statuses = Counter(r.status.value for r in self.store.owned())
            return {
                "sessions": dict(statuses),
                "live": sum(n for s, n in statuses.items() if s != Status.FINISH.value),
                "tenants": len({r.api_key for r in self.store.owned()}),
                "requests": dict(self.requests),
                "isolation": self.isolation,
                "knobs": self.knobs.describe(),
            }

    def close(self) -> None:
        """Finish every session, kill its commands and remove its files."""
        with self.store.lock:
            sandboxes = self.store.finish_all(self.now())
        self.close_sandboxes(sandboxes)
        with self._root_lock:
            if self._root is not None and self._root_given is None:
                shutil.rmtree(self._root, ignore_errors=True)
                self._root = None

    # -- knobs ----------------------------------------------------------------------------

    def set_latency(self, action: str, seconds: float) -> None:
        """Delay every `action` call (or, for "shell", every command) by `seconds`."""
        if seconds < 0:
            raise ValueError("latency cannot be negative")
        with self.store.lock:
            self.knobs.latency[action] = float(seconds)

    def inject_fault(
        self,
        action: str | None = None,
        *,
        code: str,
        message: str = "",
        http_status: int = 400,
        times: int | None = None,
        rate: float | None = None,
        retry_after_ms: int | None = None,
    ) -> None:
        """Fail calls of `action` (a tool name also works; None: every action) with `code`."""
        fault = Fault(action, code, message, http_status, times, rate, retry_after_ms)
        with self.store.lock:
            self.knobs.faults.append(fault)

    def throttle(
        self,
        action: str | None = None,
        *,
        times: int | None = None,
        rate: float | None = None,
        retry_after_ms: int = 1000,
    ) -> None:
        """Answer calls with HTTP 400 `Throttling.User` and `x-acs-retry-after` (milliseconds)."""
        self.inject_fault(action, code=THROTTLING_CODE, message=THROTTLING_MESSAGE,
                          times=times, rate=rate, retry_after_ms=retry_after_ms)

    def set_quota(self, max_sessions: int | None, api_key: str | None = None) -> None:
        """Limit concurrent sessions per API key (for one key, or the default for all)."""
        if max_sessions is not None and max_sessions < 0:
            raise ValueError("max_sessions cannot be negative")
        with self.store.lock:
            if api_key is None:
                self.knobs.quota = max_sessions
            else:
                self.knobs.quotas[api_key] = max_sessions

    def script_task(
        self,
        pattern: str,
        *,
        statuses: Iterable[str] | None = None,
        result: str | Mapping[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        """Agent tasks whose text matches `pattern` (regex) follow `statuses`, give `result`
        or fail with `error`. Default statuses: running then finished (failed with `error`)."""
        rule = TaskRule.build(pattern, None if statuses is None else list(statuses), result, error)
        with self.store.lock:
            self.knobs.rules.append(rule)

    def set_timing(self, *, settle_seconds: float | None = None,
                   task_seconds: float | None = None) -> None:
        """Change how long transitional statuses and agent tasks take on the emulator clock."""
        with self.store.lock:
            if settle_seconds is not None:
                self.knobs.settle_seconds = max(float(settle_seconds), 0.0)
            if task_seconds is not None:
                self.knobs.task_seconds = max(float(task_seconds), 0.0)

    def reseed(self, seed: int | None) -> None:
        """Make ids deterministic from `seed` from now on (None: random)."""
        self.ids.reseed(seed)

    def reset(self, *, sessions: bool = False) -> None:
        """Put the knobs back to the constructor's settings; `sessions=True` also ends them all."""
        settle, task, seed = self._defaults
        with self.store.lock:
            self.knobs = Knobs(settle_seconds=settle, task_seconds=task)
            self.requests.clear()
        self.ids.reseed(seed)
        if sessions:
            self.close()
