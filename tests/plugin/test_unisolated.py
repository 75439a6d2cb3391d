"""A machine where the local backend cannot isolate sessions: said plainly, and no key at risk."""

from __future__ import annotations

import pytest

from pytest_agentbay.emulator import sandbox

from .conftest import QUIET

REAL_KEY = "akm-real-looking-0123456789abcdef"
LOCAL = ("--agentbay", "--agentbay-backend=local", *QUIET)
COMMAND_TEST = """
def test_one(agentbay_session):
    assert agentbay_session.command.execute_command("true").success
"""


@pytest.fixture
def no_namespaces(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine, as one without user namespaces (or bubblewrap) would be."""
    monkeypatch.setattr(sandbox, "isolation_problem", lambda: "no user namespaces here")


def _run_with_real_key(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str
) -> pytest.RunResult:
    monkeypatch.setenv("AGENTBAY_API_KEY", REAL_KEY)
    inner.makepyfile(COMMAND_TEST)
    return inner.runpytest(*LOCAL, *args)


@pytest.mark.usefixtures("no_namespaces")
def test_a_real_key_in_the_environment_stops_the_run(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run_with_real_key(inner, monkeypatch)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*cannot isolate*no user namespaces here*AGENTBAY_API_KEY*"
                                 "--agentbay-allow-unisolated*"])
    assert REAL_KEY not in result.stdout.str() + result.stderr.str()


@pytest.mark.usefixtures("no_namespaces")
def test_the_flag_accepts_the_risk_and_the_header_says_not_isolated(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run_with_real_key(inner, monkeypatch, "--agentbay-allow-unisolated")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["agentbay: backend: local (*isolation: directories: sessions "
                                 "are NOT isolated*"])


@pytest.mark.usefixtures("no_namespaces")
def test_without_a_key_the_run_goes_ahead_and_says_not_isolated(inner: pytest.Pytester) -> None:
    inner.makepyfile(COMMAND_TEST)
    result = inner.runpytest(*LOCAL)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*isolation: directories: sessions are NOT isolated*"])


def test_an_isolated_backend_runs_whatever_the_environment_holds(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    if sandbox.detect_isolation() != "namespaces":
        pytest.skip("this machine cannot isolate sessions (no namespaces or no bubblewrap)")
    result = _run_with_real_key(inner, monkeypatch)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["agentbay: backend: local (*isolation: namespaces)*"])
