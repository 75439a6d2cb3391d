"""Under pytest-xdist: one backend for the fleet, module sessions created once, one shared
session for all workers, a fleet-wide quota, and crash-safe cleanup."""

from __future__ import annotations

import pytest

from .conftest import Backend, run_subprocess

MODULE_TESTS = """
import time

def make_test(i):
    def test(agentbay_module_session):
        assert agentbay_module_session.command.execute_command("echo %d" % i).success
        time.sleep(0.05)
    return test

for i in range(6):
    globals()["test_%d" % i] = make_test(i)
"""


def test_module_sessions_are_created_once_per_run(inner: pytest.Pytester, backend: Backend) -> None:
    inner.makepyfile(
        test_a=MODULE_TESTS,
        test_b=MODULE_TESTS,
        test_c="""
        def test_own(agentbay_session):
            assert agentbay_session.command.execute_command("true").success
        def test_own_too(agentbay_session):
            assert agentbay_session.command.execute_command("true").success
    """,
    )
    result = run_subprocess(inner, "-n", "3")
    result.assert_outcomes(passed=14)
    assert backend.creates() == 2 + 2  # one per module, one per function-scoped test
    assert backend.live() == []
    result.stdout.fnmatch_lines(["*sessions: 4 created, 10 reused, 4 deleted, 0 leaked*"])


def test_sharding_can_be_turned_off(inner: pytest.Pytester, backend: Backend) -> None:
    inner.makepyfile(test_a=MODULE_TESTS)
    result = run_subprocess(inner, "-n", "2", "--agentbay-no-shard")
    result.assert_outcomes(passed=6)
    assert backend.creates() == 2  # plain load balancing: the module session once per worker
    assert backend.live() == []


def test_shared_session_is_one_for_the_fleet(inner: pytest.Pytester, backend: Backend) -> None:
    inner.makepyfile(
        test_shared="""
        import pytest

        @pytest.mark.parametrize("i", range(8))
        def test_uses_it(agentbay_shared_session, i):
            assert agentbay_shared_session.command.execute_command("echo %d >> ~/log" % i).success

        @pytest.mark.asyncio
        async def test_async_view(async_agentbay_shared_session):
            result = await async_agentbay_shared_session.command.execute_command("true")
            assert result.success
    """
    )
    result = run_subprocess(inner, "-n", "3")
    result.assert_outcomes(passed=9)
    assert backend.creates() == 1
    assert backend.live() == []
    assert [event for event, _, _ in backend.emulator.events].count("delete") == 1


def test_quota_is_never_exceeded(inner: pytest.Pytester, backend: Backend) -> None:
    backend.emulator.set_quota(2)  # the backend refuses a third live session: a test would error
    inner.makepyfile(
        test_quota="""
        import time
        import pytest

        @pytest.mark.parametrize("i", range(8))
        def test_holds_a_session(agentbay_session, i):
            time.sleep(0.2)
    """
    )
    result = run_subprocess(inner, "-n", "3", "--agentbay-max-sessions=2")
    result.assert_outcomes(passed=8)
    assert backend.creates() == 8 and backend.live() == []
    result.stdout.fnmatch_lines(["*waited for quota: * s in all*"])


def test_killed_worker_leaves_no_session(inner: pytest.Pytester, backend: Backend) -> None:
    inner.makepyfile(
        test_crash="""
        import os, signal, time

        def test_dies(agentbay_session):
            os.kill(os.getpid(), signal.SIGKILL)

        def test_lives(agentbay_session):
            time.sleep(0.5)
    """
    )
    result = run_subprocess(inner, "-n", "2")
    result.assert_outcomes(passed=1, failed=1)  # xdist reports the crashed test as failed
    result.stdout.fnmatch_lines(["*worker gw* crashed: deleted the 1 session(s) it left*"])
    assert backend.creates() == 2 and backend.live() == []


def test_failing_tests_still_tear_down(inner: pytest.Pytester, backend: Backend) -> None:
    inner.makepyfile(
        test_fail=MODULE_TESTS
        + """
def test_fails(agentbay_module_session):
    assert agentbay_module_session.command.execute_command("false").success

def test_fails_alone(agentbay_session):
    raise RuntimeError("boom")
"""
    )
    result = run_subprocess(inner, "-n", "2")
    result.assert_outcomes(passed=6, failed=2)
    assert backend.creates() == 2 and backend.live() == []
