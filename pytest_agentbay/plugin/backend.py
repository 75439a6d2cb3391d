"""Which backend a run uses, starting and stopping the local one, and the environment it sets."""

from __future__ import annotations

import importlib
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from ..env import api_key
from ..redact import mask_key
from .options import setting
from .settings import NEEDS_AGENTBAY
from .starter import POSIX_MODULES, LocalStarter, LocalUnavailable, cannot_run

if TYPE_CHECKING:  # the client is imported when the first client is made, not at configure
    from ..client.agentbay import AgentBay, AsyncAgentBay
    from ..client.config import Config
    from ..client.drivers import Observer

ENV_NAMES = ("AGENTBAY_ENDPOINT", "AGENTBAY_API_KEY", "AGENTBAY_REGION_ID")
LOCAL_KEY_PREFIX = "local-"  # the keys this plugin makes up for its local backend


@dataclass
class Backend:
    """Where the run's sessions live: `cloud` or `local`, and how to reach it."""

    kind: str
    endpoint: str
    api_key: str = field(repr=False)
    isolation: str = ""
    timeout: float = 60.0  # seconds per request (--agentbay-timeout), for every client made here
    local: LocalStarter | None = field(default=None, repr=False)  # the local backend run here
    _env: pytest.MonkeyPatch | None = field(default=None, repr=False)
    used: bool = field(default=False, repr=False)  # this process made a client of it

    def start(self) -> None:
        """Start the local backend this process runs, if it has not started (thread-safe);
        ends the run with a usage error when it cannot start (every test would fail alike)."""
        if self.local is None:
            return
        try:
            self.local.start()
        except LocalUnavailable as error:
            pytest.exit(str(error), returncode=pytest.ExitCode.USAGE_ERROR)

    @property
    def in_use(self) -> bool:
        """Whether this run's sessions may live on this backend: the cloud always; a local
        backend once started (here, or by a worker's first call) or reached from here."""
        return self.kind != "local" or self.used or bool(self.local and self.local.started)

    def client(self, observer: Observer | None = None) -> AgentBay:
        """A sync client on this backend (started first, if local and not yet running)."""
        from ..client.agentbay import AgentBay

        self.start()
        self.used = True
        return AgentBay(self.api_key, self._config(), observer=observer)

    def async_client(self, observer: Observer | None = None) -> AsyncAgentBay:
        """An async client on this backend (make one per event loop)."""
        from ..client.agentbay import AsyncAgentBay

        self.start()
        self.used = True
        return AsyncAgentBay(self.api_key, self._config(), observer=observer)

    def _config(self) -> Config:
        from ..client.config import Config

        return Config(self.endpoint, max(1, round(self.timeout * 1000)))

    def describe(self) -> str:
        """One line for the report header; the key is masked."""
        where = self.endpoint
        isolation = self.local.isolation if self.local is not None else self.isolation
        if isolation:
            where += f", isolation: {_isolation_note(isolation)}"
        elif self.local is not None:
            where += ", started on first use"
        return f"backend: {self.kind} ({where}), key: {mask_key(self.api_key)}"

    def summary(self) -> str:
        """The local backend's line for the terminal summary: whether it started, and where."""
        if self.local is None:
            return ""
        if self.local.error:
            return f"local backend could not start: {self.local.error}"
        if not self.local.started:
            return "local backend not started: no test needed it"
        isolation = _isolation_note(self.local.isolation)
        return f"local backend started on first use at {self.endpoint}, isolation: {isolation}"

    def reach_hint(self, session_id: str) -> str:
        """How a person reaches a kept session after the run."""
        if self.kind == "local":
            return (
                "the local backend stops with this run; use --agentbay-backend=cloud "
                "to keep sessions past it"
            )
        return (
            f"AgentBay(cfg=Config({self.endpoint!r})).get({session_id!r}) with your "
            f"AGENTBAY_API_KEY; delete it when done (or run pytest --agentbay-reap "
            f"--agentbay-reap-age=0; the service releases it after --agentbay-session-expiry "
            f"idle seconds)"
        )

    def shared(self) -> dict[str, Any]:
        """What xdist workers need to reach the same backend."""
        return {
            "kind": self.kind,
            "endpoint": self.endpoint,
            "api_key": self.api_key,
            "isolation": self.local.isolation if self.local is not None else self.isolation,
            "timeout": self.timeout,
        }

    def export_environment(self) -> None:
        """Point code under test that builds its own client (ours or the official SDK) here."""
        self._env = pytest.MonkeyPatch()
        self._env.setenv("AGENTBAY_ENDPOINT", self.endpoint)
        self._env.setenv("AGENTBAY_API_KEY", self.api_key)
        self._env.delenv("AGENTBAY_REGION_ID", raising=False)  # a region would win over it

    def close(self) -> None:
        """Restore the environment and stop the local backend, if this process started it."""
        if self._env is not None:
            self._env.undo()
            self._env = None
        if self.local is not None:
            self.local.close()


def required(backend: Backend | None) -> Backend:
    """`backend`, or a skip that says how to run AgentBay tests."""
    if backend is None:
        pytest.skip(NEEDS_AGENTBAY)
    return backend


def choose(config: pytest.Config) -> Backend:
    """The backend for this run, started if local; UsageError when it cannot be had."""
    shared = getattr(config, "workerinput", {}).get("agentbay_backend")
    if shared:  # an xdist worker reaches the controller's backend
        return Backend(**shared)
    timeout = float(setting(config, "agentbay_timeout"))
    kind = setting(config, "agentbay_backend")
    key = api_key()  # the environment, else a .env file: as the client reads it
    if kind == "auto":
        kind = "cloud" if key else "local"
    if kind == "local":
        return prepare_local(
            unisolated_ok=bool(setting(config, "agentbay_allow_unisolated")),
            limits=_limits(setting(config, "agentbay_local_limit")),
            timeout=timeout,
        )
    if not key:
        raise pytest.UsageError(
            "--agentbay-backend=cloud needs an API key: set AGENTBAY_API_KEY (in the "
            "environment or a .env file), or use "
            "--agentbay-backend=local (or auto) to run against the local backend"
        )
    from ..client.config import resolve_settings as resolve_client

    try:
        settings = resolve_client(key)
    except ValueError as error:
        raise pytest.UsageError(f"AgentBay cloud backend: {error}") from None
    return Backend("cloud", settings.endpoint, key, timeout=timeout)


def _limits(pairs: list[str]) -> dict[str, int]:
    """``--agentbay-local-limit NAME=N`` pairs; UsageError naming what to fix."""
    if not pairs:  # (the emulator's package is not imported for nothing)
        return {}
    from ..emulator.limits import DEFAULT_LIMITS, Limits

    chosen: dict[str, int] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        name = name.strip()
        if name not in DEFAULT_LIMITS.describe() or not value.strip().isdigit():
            names = ", ".join(DEFAULT_LIMITS.describe())
            raise pytest.UsageError(f"--agentbay-local-limit {pair!r}: expected NAME=N with "
                                    f"NAME one of {names} and N a positive integer")
        chosen[name] = int(value)
    try:
        Limits(**chosen)
    except ValueError as error:
        raise pytest.UsageError(f"--agentbay-local-limit: {error}") from None
    return chosen


def _isolation_note(isolation: str) -> str:
    if isolation == "directories":
        return "directories: sessions are NOT isolated (see the README: bubblewrap)"
    return isolation


def _refuse_unisolated(problem: str) -> None:
    """Unisolated commands could read a real key from this process: only with explicit consent."""
    key = api_key()  # a real key in the environment or a .env file
    if key and not key.startswith(LOCAL_KEY_PREFIX):
        raise pytest.UsageError(
            "the local backend cannot isolate its sessions on this machine "
            f"({problem}), and AGENTBAY_API_KEY is set: a command run in a session could read "
            "it. Install bubblewrap, unset AGENTBAY_API_KEY for this run, or pass "
            "--agentbay-allow-unisolated to accept the risk"
        )


def prepare_local(
    *, unisolated_ok: bool = False, limits: dict[str, int] | None = None, timeout: float = 60.0
) -> Backend:
    """The local backend, to start on first use: a loopback port now and a fresh key that only
    this run knows, both exported. Where sessions could not be isolated while a real key is
    set, refuse now (probing costs a new process, paid only in that case)."""
    for name in POSIX_MODULES:
        try:  # fail here, clearly, not at the first test
            importlib.import_module(name)
        except ImportError:
            raise pytest.UsageError(cannot_run(name)) from None
    isolation = ""
    key = api_key()  # a real key in the environment or a .env file
    if key and not key.startswith(LOCAL_KEY_PREFIX):
        from ..emulator.sandbox import detect_isolation, isolation_problem

        problem = isolation_problem()
        if problem is not None and not unisolated_ok:
            _refuse_unisolated(problem)
        isolation = detect_isolation()
    local_key = LOCAL_KEY_PREFIX + secrets.token_hex(12)
    local = LocalStarter(local_key, limits or {}, isolation)
    backend = Backend("local", local.url, local_key, timeout=timeout, local=local)
    backend.export_environment()
    return backend
