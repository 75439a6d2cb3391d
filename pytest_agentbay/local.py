"""The local backend outside pytest, as moto's `mock_aws`: a context manager and decorator that
starts the emulator on loopback, points `AGENTBAY_ENDPOINT` / `AGENTBAY_API_KEY` at it and
restores the environment afterwards, for scripts and unittest suites."""

from __future__ import annotations

import functools
import inspect
import os
import secrets
import unittest
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from .client.agentbay import AgentBay, AsyncAgentBay
from .client.config import Config

T = TypeVar("T")
ENV = ("AGENTBAY_ENDPOINT", "AGENTBAY_API_KEY", "AGENTBAY_REGION_ID")


class LocalBackend:
    """A local backend while in use: `endpoint`, `api_key`, the `emulator` (its knobs:
    `set_latency`, `inject_fault`, ...), and `client()` / `async_client()` bound to it.

    Each `with` block, decorated call or unittest test gets a fresh backend; `emulator_options`
    go to `Emulator` (e.g. `seed=1`, `images={...}`).
    """

    def __init__(self, *, allow_unisolated: bool = False, **emulator_options: Any) -> None:
        self.allow_unisolated = allow_unisolated
        self.options = emulator_options
        self.endpoint = ""
        self.api_key = ""
        self.emulator: Any = None  # an Emulator while started
        self._server: Any = None
        self._saved: dict[str, str | None] = {}

    def start(self) -> LocalBackend:
        """Start the emulator on a loopback port with a fresh key, and export both."""
        from .emulator import Emulator, EmulatorServer  # only users of the backend pay for it

        if self._server is not None:
            raise RuntimeError("this local backend is already started: use a new local_backend()")
        self._check_isolation()
        self.api_key = "local-" + secrets.token_hex(12)
        self.emulator = Emulator(api_keys=[self.api_key], **self.options)
        self._server = EmulatorServer(self.emulator, host="127.0.0.1", port=0).start()
        self.endpoint = self._server.url
        self._saved = {name: os.environ.get(name) for name in ENV}
        os.environ["AGENTBAY_ENDPOINT"] = self.endpoint
        os.environ["AGENTBAY_API_KEY"] = self.api_key
        os.environ.pop("AGENTBAY_REGION_ID", None)  # a region would win over the endpoint
        return self

    def _check_isolation(self) -> None:
        """Unisolated commands run as you and could read a real key from this process (as the
        plugin does, refuse unless allowed)."""
        from .emulator.sandbox import isolation_problem

        key = os.environ.get("AGENTBAY_API_KEY", "").strip()
        if self.allow_unisolated or not key or key.startswith("local-"):
            return
        problem = isolation_problem()
        if problem is not None:
            raise RuntimeError(
                f"the local backend cannot isolate its sessions on this machine ({problem}), "
                "and AGENTBAY_API_KEY is set: a command run in a session could read it. Install "
                "bubblewrap, unset AGENTBAY_API_KEY, or pass local_backend(allow_unisolated=True)"
            )

    def stop(self) -> None:
        """Restore the environment, stop the server and finish every session it holds."""
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved = {}
        if self._server is not None:
            self._server.stop()
            self._server = None
            self.emulator.close()

    def client(self) -> AgentBay:
        """A sync client bound to this backend."""
        return AgentBay(self.api_key, Config(self.endpoint))

    def async_client(self) -> AsyncAgentBay:
        """An async client bound to this backend (one per event loop)."""
        return AsyncAgentBay(self.api_key, Config(self.endpoint))

    def __enter__(self) -> LocalBackend:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __call__(self, target: T) -> T:
        """Decorate a function (sync or async) or a `unittest.TestCase` class."""
        if isinstance(target, type):
            return self._decorate_case(target)  # type: ignore[return-value]
        if not callable(target):
            raise TypeError(
                f"local_backend() decorates functions and TestCase classes, got {target!r}"
            )
        return self._decorate_function(target)  # type: ignore[return-value]

    def _fresh(self) -> LocalBackend:
        return LocalBackend(allow_unisolated=self.allow_unisolated, **self.options)

    def _decorate_function(self, function: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self._fresh():
                    return await function(*args, **kwargs)

            return run_async

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return function(*args, **kwargs)

        return run

    def _decorate_case(self, case: type) -> type:
        """Each test of the class runs with its own backend, from `setUp` to the cleanups
        after `tearDown`; `self.agentbay` is the backend."""
        if not issubclass(case, unittest.TestCase):
            raise TypeError(
                f"local_backend() decorates unittest.TestCase classes, not {case.__name__}; "
                "use `with local_backend():` in other classes"
            )
        set_up = case.setUp
        make = self._fresh

        def setUp(test: unittest.TestCase) -> None:
            backend = make().start()
            test.addCleanup(backend.stop)
            test.agentbay = backend  # type: ignore[attr-defined]
            set_up(test)

        case.setUp = setUp  # type: ignore[method-assign,assignment]
        return case


def local_backend(*, allow_unisolated: bool = False, **emulator_options: Any) -> LocalBackend:
    """The local backend for code outside pytest, as moto's `mock_aws`:

        with local_backend() as backend:     # AGENTBAY_ENDPOINT / AGENTBAY_API_KEY point at it
            run_my_agent()                   # any client built from the environment reaches it

        @local_backend()                     # on a function (sync or async), or a TestCase class
        def test_agent(): ...

    The environment is restored afterwards; `emulator_options` go to `Emulator`. Where sessions
    cannot be isolated it refuses to start while AGENTBAY_API_KEY holds a real key, unless
    `allow_unisolated`.
    """
    return LocalBackend(allow_unisolated=allow_unisolated, **emulator_options)
