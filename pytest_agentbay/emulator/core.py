"""The emulator: one core that answers AgentBay API calls, whichever way they came in.

`Emulator` authenticates, applies injected faults and latency, and dispatches each call to its
handler in `actions`; all state lives in `state.Store`. Its knob methods check their arguments
(the control endpoint and `EmulatorControl` call exactly these) and set `knobs.Knobs`.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ..clock import SYSTEM_CLOCK, Clock
from . import actions
from .form import MAX_BODY_BYTES, parse_params, too_large
from .ids import Ids
from .images import BUILTIN_IMAGES, ImageSpec
from .knobs import SHELL, THROTTLING_CODE, THROTTLING_MESSAGE, Fault, Knobs, checked_seconds
from .limits import DEFAULT_LIMITS, Limits
from .mcp import TOOLS
from .records import LiveSession, SandboxFactory
from .reply import ApiError, Ok, Reply, failure, missing, not_login, success
from .state import Store
from .tasks import TaskRule

log = logging.getLogger(__name__)


def _default_factory(limits: Limits) -> tuple[SandboxFactory, Callable[[], str]]:
    from . import sandbox  # the runner is only needed once a command runs

    return functools.partial(sandbox.Sandbox, limits=limits), sandbox.detect_isolation


def _known(name: str | None, what: str, names: Iterable[str]) -> None:
    """Refuse a knob for an action or tool that does not exist: it would never fire."""
    if name is not None and name not in names:
        raise ValueError(f"{what} {name!r} is not an action or tool of this service; "
                         f"choose from {', '.join(sorted(names))}")


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
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self._api_keys = frozenset(api_keys) if api_keys is not None else None
        settle = checked_seconds("settle_seconds", settle_seconds)
        task = checked_seconds("task_seconds", task_seconds)
        self._defaults = (settle, task, seed)
        self.clock: Clock = clock or SYSTEM_CLOCK
        self.ids = Ids(seed)
        self.images: dict[str, ImageSpec] = {**BUILTIN_IMAGES, **(images or {})}
        self.knobs = Knobs(settle_seconds=settle, task_seconds=task)
        if sandbox_factory is None:
            sandbox_factory, detect = _default_factory(limits)
            isolation = isolation or detect()
        self.isolation: str = isolation or "directories"
        self.limits = limits
        self.store = Store(clock=self.clock, ids=self.ids, knobs=self.knobs, images=self.images,
                           factory=sandbox_factory, isolation=self.isolation,
                           root=Path(root) if root is not None else None)

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

    def _dispatch(self, params: Mapping[str, str], body_size: int) -> Ok:
        if body_size > MAX_BODY_BYTES:
            raise too_large(body_size)
        action = params.get("Action", "")
        if not action:
            raise missing("Action")
        handler = actions.ACTIONS.get(action)
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
        fault, delay, named = self.store.admit(action, names, api_key, params.get("SessionId", ""))
        try:
            if fault is not None:
                raise fault.error()
            if delay > 0:
                self.clock.sleep(delay)
            return handler(self.store, api_key, params)
        finally:
            if named is not None:  # the call's end is activity too (`expiry`)
                self.store.done(named)

    def authenticate(self, authorization: str | None) -> str:
        """The API key of `Bearer <key>`, or NOT_LOGIN."""
        scheme, _, key = (authorization or "").partition(" ")
        key = key.strip()
        if scheme != "Bearer" or not key:
            raise not_login()
        if self._api_keys is not None and key not in self._api_keys:
            raise not_login()
        return key

    # -- views for tests --------------------------------------------------------------

    @property
    def requests(self) -> Counter[str]:
        """Calls received, by action (a live count)."""
        return self.store.requests

    def now(self) -> float:
        """The emulator clock's time."""
        return self.clock.now()

    def live_sessions(self, api_key: str | None = None) -> list[LiveSession]:
        """Sessions not yet finished, of one key or of all: for assertions about leaks."""
        return self.store.live(api_key)

    def state(self) -> dict[str, Any]:
        """Counts, knob settings and sandbox limits (no keys, no secrets): the control GET."""
        return {**self.store.describe(), "limits": self.limits.describe()}

    def release_expired(self) -> None:
        """Release the sessions whose idle_release_timeout (or max runtime) is up. Every call
        does this first; a server also does it a few times a second with no call arriving."""
        self.store.sweep()

    def close(self) -> None:
        """Finish every session, kill its commands and remove its files."""
        self.store.close()

    # -- knobs (their signatures are the control endpoint's and EmulatorControl's) ----------

    def set_latency(self, action: str, seconds: float) -> None:
        """Delay every `action` call (or, for "shell", every command) by `seconds`."""
        seconds = checked_seconds("seconds", seconds)
        _known(action, "latency for", {*actions.ACTIONS, SHELL})
        self.knobs.set_latency(action, seconds)

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
        _known(action, "a fault on", {*actions.ACTIONS, *TOOLS})
        self.knobs.add_fault(fault)

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
        self.knobs.set_quota(max_sessions, api_key)

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
        self.knobs.add_rule(rule)

    def set_timing(self, *, settle_seconds: float | None = None,
                   task_seconds: float | None = None) -> None:
        """Change how long transitional statuses and agent tasks take on the emulator clock."""
        settle = None if settle_seconds is None else checked_seconds("settle_seconds",
                                                                     settle_seconds)
        task = None if task_seconds is None else checked_seconds("task_seconds", task_seconds)
        self.knobs.set_timing(settle, task)

    def reseed(self, seed: int | None) -> None:
        """Make ids deterministic from `seed` from now on (None: random)."""
        self.ids.reseed(seed)

    def reset(self, *, sessions: bool = False) -> None:
        """Put the knobs back to the constructor's settings; `sessions=True` also ends them all."""
        settle, task, seed = self._defaults
        self.knobs.reset(settle, task)
        self.store.clear_requests()
        self.ids.reseed(seed)
        if sessions:
            self.close()
