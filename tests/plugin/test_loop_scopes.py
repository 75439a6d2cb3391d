"""Every async fixture works in whatever event loop pytest-asyncio gives the test and the user's
own async fixtures: each loop scope (function to session, by marker or by ini default) in
strict and in auto mode. One inner run per mode covers the whole matrix."""

from __future__ import annotations

import pytest

from .conftest import Backend, run

SCOPES = ("function", "class", "module", "package", "session")

CONFTEST = """
import pytest
import pytest_asyncio


async def echo(session, text):
    result = await session.command.execute_command(f"echo {text}")
    assert result.success and result.output.strip() == text, result


@pytest_asyncio.fixture  # in the loop of the ini's asyncio_default_fixture_loop_scope
async def user_session(async_agentbay_session):
    await echo(async_agentbay_session, "fixture-setup")
    yield async_agentbay_session
    await echo(async_agentbay_session, "fixture-teardown")


@pytest_asyncio.fixture(loop_scope="session")  # a function fixture in the session's loop
async def user_made(async_agentbay_session_factory, async_agentbay_client):
    session = await async_agentbay_session_factory()
    assert (await async_agentbay_client.list()).success
    return session
"""

CLASS = """

@pytest.mark.asyncio(loop_scope="{scope}")
class Test{name}:
    async def test_client(self, async_agentbay_client):
        assert (await async_agentbay_client.list()).success

    async def test_session(self, async_agentbay_session):
        await echo(async_agentbay_session, "t")

    async def test_class(self, async_agentbay_class_session):
        await echo(async_agentbay_class_session, "c")

    async def test_module(self, async_agentbay_module_session):
        await echo(async_agentbay_module_session, "m")

    async def test_shared(self, async_agentbay_shared_session):
        await echo(async_agentbay_shared_session, "s")

    async def test_factory(self, async_agentbay_session_factory):
        await echo(await async_agentbay_session_factory(), "f")

    async def test_user_fixtures(self, user_session, user_made, async_agentbay_client):
        await echo(user_session, "u")
        await echo(user_made, "u")
        assert (await async_agentbay_client.list()).success
"""

MODULE = """
import pytest

from .conftest import echo


@pytest.mark.asyncio(loop_scope="module")
async def test_marked_module_loop(async_agentbay_session, user_session):
    await echo(async_agentbay_session, "mm")


@pytest.mark.asyncio  # the ini's asyncio_default_test_loop_scope
async def test_default_loop(async_agentbay_module_session, user_made):
    await echo(async_agentbay_module_session, "d")
    await echo(user_made, "d")
"""


@pytest.mark.parametrize(
    ("mode", "fixture_loop", "test_loop"),
    [("strict", "module", "function"), ("auto", "session", "module")],
)
def test_async_fixtures_work_in_every_loop_scope(
    inner: pytest.Pytester, backend: Backend, mode: str, fixture_loop: str, test_loop: str
) -> None:
    package = inner.mkpydir("loops")
    (package / "conftest.py").write_text(CONFTEST)
    classes = "".join(CLASS.format(scope=s, name=s.title()) for s in SCOPES)
    (package / "test_loops.py").write_text(MODULE + classes)
    result = run(
        inner,
        "-o", f"asyncio_mode={mode}",
        "-o", f"asyncio_default_fixture_loop_scope={fixture_loop}",
        "-o", f"asyncio_default_test_loop_scope={test_loop}",
        "-W", "error::RuntimeWarning",
        "-W", "error::pytest.PytestUnraisableExceptionWarning",
    )  # fmt: skip
    output = result.stdout.str() + result.stderr.str()
    assert "different event loop" not in output and "different loop" not in output
    assert "Event loop is closed" not in output
    result.assert_outcomes(passed=2 + 7 * len(SCOPES))
    assert backend.live() == []
    assert len(backend.created_for("loops/test_loops.py")) == 1  # one module session
    for scope in SCOPES:  # one session per class
        assert len(backend.created_for(f"loops/test_loops.py::Test{scope.title()}")) == 1
