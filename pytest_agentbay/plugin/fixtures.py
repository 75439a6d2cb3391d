"""The plugin's fixtures: clients, sessions of every scope (sync and async), factories, control.

Every fixture is a plain (synchronous) pytest fixture, so that none is bound to an event loop:
sessions of every scope are plain data, and the async client they are bound to keeps one
connection pool per event loop. An async test can use any of them whatever loop scope
pytest-asyncio gives it (function to session, by marker or ini) in strict and auto mode alike.
Each fixture's scope comes from the table in `scopes.py`; pytest loads this module as a plugin
of its own. The client is imported on first use, not when pytest loads the plugin.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, cast

import pytest

from .run import get_run
from .scopes import FIXTURES

if TYPE_CHECKING:
    from ..client.agentbay import AgentBay, AsyncAgentBay
    from ..client.session import Session
    from ..models.modes import Async, Sync
    from .cassette_view import AgentBayCassette
    from .control import EmulatorControl

F = TypeVar("F", bound=Callable[..., Any])


def _fixture(name: str) -> Callable[[F], F]:
    """`pytest.fixture` with the name and scope of `name`'s row in the table."""
    return cast("Callable[[F], F]", pytest.fixture(scope=FIXTURES[name].scope, name=name))


def _test_loop_first(request: pytest.FixtureRequest) -> None:
    """Set up the event loop the test will run in before this fixture, so that it is still
    open when this fixture's teardown closes the client's connections in it. (pytest-asyncio
    1.x gives an async test the runner fixture of its loop scope; it would otherwise be set
    up after, and closed before, the fixtures the test names.)"""
    scope = getattr(request.node, "_loop_scope", None)
    if isinstance(scope, str):  # (another pytest-asyncio: the loop is its own business)
        with contextlib.suppress(pytest.FixtureLookupError):
            request.getfixturevalue(f"_{scope}_scoped_runner")


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


@_fixture("async_agentbay_client")
def async_agentbay_client(request: pytest.FixtureRequest) -> Iterator[AsyncAgentBay]:
    """An `AsyncAgentBay` client bound to the run's backend, one per test. It works in any
    event loop (one connection pool per loop), whatever pytest-asyncio's loop scope."""
    run = get_run(request.config)
    backend = run.require_backend()
    _test_loop_first(request)
    client = backend.async_client(run.tracker.observe)
    yield client
    from ..client.agentbay import close_idle

    close_idle(client)


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


@_fixture("async_agentbay_session")
def async_agentbay_session(
    request: pytest.FixtureRequest,
    async_agentbay_client: AsyncAgentBay,
    agentbay_session_params: Any,
) -> Iterator[Session[Async]]:
    """An async session for this test, deleted when it ends; usable in any event loop."""
    leases = get_run(request.config).leases
    with leases.lease(request.node, agentbay_session_params) as session:
        yield async_agentbay_client.session(session.data)


def _async_view(name: str, sync_name: str, doc: str) -> Any:
    def fixture(
        request: pytest.FixtureRequest, async_agentbay_client: AsyncAgentBay
    ) -> Session[Async]:
        shared: Session[Sync] = request.getfixturevalue(sync_name)
        return async_agentbay_client.session(shared.data)  # plain data: any loop may use it

    fixture.__doc__ = doc  # before decorating: `pytest --fixtures` reads the function's
    return _fixture(name)(fixture)


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


@_fixture("async_agentbay_session_factory")
def async_agentbay_session_factory(
    request: pytest.FixtureRequest,
    async_agentbay_client: AsyncAgentBay,
    agentbay_session_params: Any,
) -> Iterator[Callable[..., Any]]:
    """`await factory(image=..., **params)` creates async sessions in the test's event loop;
    all are deleted, concurrently, when the test ends."""
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
        leases.delete_all([s.session_id for s in doomed])


def _image(overrides: dict[str, Any]) -> dict[str, Any]:
    if "image" in overrides:
        overrides["image_id"] = overrides.pop("image")
    return overrides


@_fixture("agentbay_emulator")
def agentbay_emulator(pytestconfig: pytest.Config) -> Iterator[EmulatorControl]:
    """Control of the local backend (latency, faults, quota, scripted agent results), reset
    after the test. Skips on other backends."""
    from .control import EmulatorControl

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
    from .cassette_view import cassette_of

    return cassette_of(pytestconfig)
