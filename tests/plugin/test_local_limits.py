"""The local backend's per-session limits, set from the pytest command line."""

from __future__ import annotations

import pytest

from pytest_agentbay.emulator.sandbox import detect_isolation

from .conftest import QUIET

LOCAL = ("--agentbay", "--agentbay-backend=local", *QUIET)


def test_a_limit_from_the_command_line_holds_in_the_session(inner: pytest.Pytester) -> None:
    if detect_isolation() != "namespaces":
        pytest.skip("this machine cannot isolate sessions: limits hold only in sandboxes")
    inner.makepyfile(
        """
        def test_limits(agentbay_session):
            result = agentbay_session.command.execute_command("ulimit -Hu; ulimit -Hn")
            assert result.stdout.split() == ["40", "64"], result
        """
    )
    result = inner.runpytest(*LOCAL, "--agentbay-local-limit", "processes=40",
                             "--agentbay-local-limit", "open_files=64")
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize("pair", ["cpus=2", "processes=lots", "processes=2", "memory_mib"])
def test_a_bad_limit_is_a_usage_error_naming_the_choices(inner: pytest.Pytester, pair: str) -> None:
    inner.makepyfile("def test_nothing(): pass")
    result = inner.runpytest(*LOCAL, "--agentbay-local-limit", pair)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--agentbay-local-limit*"])
