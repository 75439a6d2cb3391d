"""The plugin's fixtures: clients, sessions of every scope (sync and async), factories, control.

Wider-scoped async sessions share the session, never a live async object: each test gets a
fresh `AsyncAgentBay` in its own event loop, bound to the same session id. Each fixture's scope
comes from the table in `scopes.py`; pytest loads this module as a plugin of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, NamedTuple, TypeVar, cast

import pytest
import pytest_asyncio

from ..client.agentbay import AgentBay, AsyncAgentBay
from ..client.session import Session
from ..models.modes import Async, Sync
from .cassette_view import AgentBayCassette, cassette_of
from .control import EmulatorControl
from .run import get_run
from .scopes import FIXTURES

F = TypeVar("F", bound=Callable[..., Any])


def _fixture(name: str) -> Callable[[F], F]:
    """`pytest.fixture` with the name and scope of `name`'s row in the table."""
    return cast("Callable[[F], F]", pytest.fixture(scope=FIXTURES[name].scope, name=name))


def _async_fixture(name: str) -> Callable[[F], F]:
    """`pytest_asyncio.fixture` with the name and scope of `name`'s row in the table."""
    decorator = pytest_asyncio.fixture(scope=FIXTURES[name].scope, name=name)
    return cast("Callable[[F], F]", decorator)


class Endpoint(NamedTuple):
    """Where the run's backend is: give these to a client that code under test builds."""

    endpoint: str
    api_key: str

    def __repr__(self) -> str:
        return f"Endpoint(endpoint={self.endpoint!r}, api_key='***')"


@_fixture("agentbay_endpoint")
def agentbay_endpoint(pytestconfig: pytest.Config) -> Endpoint:
    """The run's backend endpoint and API key (also exported as AGENTBAY_ENDPOINT and
    AGENTBAY_API_KEY while the local backend runs)."""
    backend = get_run(pytestconfig).require_backend()
    return Endpoint(backend.endpoint, backend.api_key)


@_fixture("agentbay_client")
def agentbay_client(pytestconfig: pytest.Config) -> AgentBay:
    """A synchronous `AgentBay` client bound to the run's backend."""
    return get_run(pytestconfig).leases.client


@_async_fixture("async_agentbay_client")
async def async_agentbay_client(pytestconfig: pytest.Config) -> AsyncIterator[AsyncAgentBay]:
    """An `AsyncAgentBay` client bound to the run's backend, one per test (its event loop)."""
    run = get_run(pytestconfig)
    client = run.require_backend().async_client(run.tracker.observe)
    async with client:
        yield client


@_fixture("agentbay_session_params")
def agentbay_session_params() -> dict[str, Any]:
    """Settings of the sessions the tests of a directory get (`image`, `labels`, `policy_id`,
    `idle_release_timeout`, ...): `{}` here; override it in a conftest.py, with a scope as wide
    as the sessions that use it. Markers on a test, class or module apply on top."""
    return {}


def _sync_session(name: str, doc: str) -> Any:
    def fixture(
        request: pytest.FixtureRequest, agentbay_session_params: Any
    ) -> Iterator[Session[Sync]]:
        leases = get_run(request.config).leases
        lease = leases.fleet_lease if FIXTURES[name].owner == "run" else leases.lease
        with lease(request.node, agentbay_session_params) as session:
            yield session

    fixture.__doc__ = doc  # before decorating: `pytest --fixtures` reads the function's
    return _fixture(name)(fixture)


agentbay_session = _sync_session(
    "agentbay_session", "A session for this test, deleted when it ends."
)
agentbay_class_session = _sync_session(
    "agentbay_class_session", "A session shared by the tests of a class."
)
agentbay_module_session = _sync_session(
    "agentbay_module_session", "A session shared by the tests of a module."
)
agentbay_shared_session = _sync_session(
    "agentbay_shared_session", "One session for the whole run."
)


@_async_fixture("async_agentbay_session")
async def async_agentbay_session(
    request: pytest.FixtureRequest,
    async_agentbay_client: AsyncAgentBay,
    agentbay_session_params: Any,
) -> AsyncIterator[Session[Async]]:
    """An async session for this test, created and deleted in the test's event loop."""
    leases = get_run(request.config).leases
    base = agentbay_session_params
    session = await leases.acreate(async_agentbay_client, request.node, base)
    try:
        yield session
    finally:
        if not leases.keep(session.session_id, request.node):
            try:
                leases.before_delete(session, request.node, sync_view=True)
            finally:
                leases.deleted(session.session_id, await async_agentbay_client.delete(session))


def _async_view(name: str, sync_name: str, doc: str) -> Any:
    async def fixture(
        request: pytest.FixtureRequest, async_agentbay_client: AsyncAgentBay
    ) -> Session[Async]:
        shared: Session[Sync] = request.getfixturevalue(sync_name)
        return async_agentbay_client.session(shared.data)

    fixture.__doc__ = doc  # before decorating: `pytest --fixtures` reads the function's
    return _async_fixture(name)(fixture)


async_agentbay_class_session = _async_view(
    "async_agentbay_class_session",
    "agentbay_class_session",
    "The class's shared session, as an async session in this test's event loop.",
)
async_agentbay_module_session = _async_view(
    "async_agentbay_module_session",
    "agentbay_module_session",
    "The module's shared session, as an async session in this test's event loop.",
)
async_agentbay_shared_session = _async_view(
    "async_agentbay_shared_session",
    "agentbay_shared_session",
    "The run's shared session, as an async session in this test's event loop.",
)


@_fixture("agentbay_session_factory")
def agentbay_session_factory(
    request: pytest.FixtureRequest, agentbay_session_params: Any
) -> Iterator[Callable[..., Any]]:
    """`factory(image=..., labels=..., **params)` creates sessions; all are deleted, concurrently,
    when the test ends."""
    leases = get_run(request.config).leases
    made: list[Session[Sync]] = []

    def factory(**overrides: Any) -> Session[Sync]:
        base = agentbay_session_params
        session: Session[Sync] = leases.create(request.node, base, **_image(overrides))
        made.append(session)
        return session

    yield factory
    doomed = [s for s in made if not leases.keep(s.session_id, request.node)]
    try:
        for session in doomed:
            leases.before_delete(session, request.node)
    finally:
        leases.delete_all([s.session_id for s in doomed])


@_async_fixture("async_agentbay_session_factory")
async def async_agentbay_session_factory(
    request: pytest.FixtureRequest,
    async_agentbay_client: AsyncAgentBay,
    agentbay_session_params: Any,
) -> AsyncIterator[Callable[..., Any]]:
    """`await factory(image=..., **params)` creates async sessions; all are deleted,
    concurrently, when the test ends."""
    leases = get_run(request.config).leases
    made: list[Session[Async]] = []

    async def factory(**overrides: Any) -> Session[Async]:
        base, node = agentbay_session_params, request.node
        session = await leases.acreate(async_agentbay_client, node, base, **_image(overrides))
        made.append(session)
        return session

    yield factory
    doomed = [s for s in made if not leases.keep(s.session_id, request.node)]
    try:
        for session in doomed:
            leases.before_delete(session, request.node, sync_view=True)
    finally:
        results = await asyncio.gather(*(async_agentbay_client.delete(s) for s in doomed))
    for session, result in zip(doomed, results, strict=True):
        leases.deleted(session.session_id, result)


def _image(overrides: dict[str, Any]) -> dict[str, Any]:
    if "image" in overrides:
        overrides["image_id"] = overrides.pop("image")
    return overrides


@_fixture("agentbay_emulator")
def agentbay_emulator(pytestconfig: pytest.Config) -> Iterator[EmulatorControl]:
    """Control of the local backend (latency, faults, quota, scripted agent results), reset
    after the test. Skips on other backends."""
    backend = get_run(pytestconfig).require_backend()
    if backend.kind != "local":
        pytest.skip(f"agentbay_emulator needs the local backend; this run uses {backend.kind}")
    control = EmulatorControl(backend.endpoint, backend.api_key)
    try:
        yield control
    finally:
        control.reset()
        control.close()


@_fixture("agentbay_cassette")
def agentbay_cassette(pytestconfig: pytest.Config) -> AgentBayCassette:
    """The test's cassette: `mode`, `replaying`, `recording`, `path`, `interactions`,
    `played`, `unplayed()`, `assert_all_played()`, and `volatile(...)` to declare request parts
    that differ on every run. Mode "off" in a run without cassettes."""
    return cassette_of(pytestconfig)
