"""The local backend starts on first use: a run whose tests take no session starts no emulator
(no server thread, no sandboxes, no client imported), and the first test, fixture or
connection that needs it starts it once, for every xdist worker too. (What start-up costs is
measured in benchmarks/replay_bench.py and overhead_bench.py, not asserted here.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import QUIET
from .test_signals import _default_signals, wait_for

LOCAL = ("--agentbay", "--agentbay-backend=local", *QUIET, "-p", "no:randomly")
NOTHING_STARTED = """
import sys, threading

def test_plain():
    threads = sorted(t.name for t in threading.enumerate())
    assert not [name for name in threads if name.startswith("agentbay-emulator")], threads
    assert "pytest_agentbay.client" not in sys.modules
    assert "pytest_agentbay.emulator" not in sys.modules
"""
SESSIONS = """
import pytest

@pytest.mark.parametrize("n", range(2))
def test_session(n, agentbay_session):
    assert agentbay_session.command.execute_command("echo hi").stdout == "hi\\n"

def test_plain():
    pass
"""


def _scratch(pytester: pytest.Pytester) -> dict[str, str]:
    """The inner run's environment: no key (so no probe at configure), its own TMPDIR."""
    scratch = pytester.path / "scratch"
    scratch.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "AGENTBAY_API_KEY"}
    return {**env, "TMPDIR": str(scratch), "READY_DIR": str(pytester.path)}


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """An inner run in its own process (its threads and imports are its own)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _scratch(pytester).items():
            patch.setenv(name, value)
        patch.delenv("AGENTBAY_API_KEY", raising=False)
        return pytester.runpytest_subprocess(*LOCAL, *args, timeout=120)


def _run_clean(
    pytester: pytest.Pytester, source: str, extra: tuple[str, ...], passed: int, lines: list[str]
) -> pytest.RunResult:
    """Run `source`; its outcomes and summary lines as given, and nothing left in TMPDIR."""
    pytester.makepyfile(source)
    result = _run(pytester, *extra)
    result.assert_outcomes(passed=passed)
    result.stdout.fnmatch_lines(lines)
    assert list((pytester.path / "scratch").glob("agentbay-*")) == []  # no sandboxes, no fleet
    return result


@pytest.mark.parametrize("extra", [(), ("-p", "no:xdist"), ("-n", "2")], ids=str)
def test_a_run_whose_tests_take_no_session_starts_no_backend(
    inner: pytest.Pytester, extra: tuple[str, ...]
) -> None:
    _run_clean(inner, NOTHING_STARTED, extra, 1, [
        "agentbay: backend: local (http://127.0.0.1:*, started on first use), key: *",
        "*local backend not started: no test needed it",
    ])


@pytest.mark.parametrize("extra", [(), ("-n", "2")], ids=str)
def test_the_first_session_starts_it_once_for_every_process(
    inner: pytest.Pytester, extra: tuple[str, ...]
) -> None:
    result = _run_clean(inner, SESSIONS, extra, 3, [
        "*local backend started on first use at http://127.0.0.1:*, isolation: *",
        "sessions: 2 created, 0 reused, 2 deleted, 0 leaked",
    ])
    assert result.stdout.str().count("local backend started") == 1


def test_code_under_test_with_its_own_client_starts_it_by_connecting(
    inner: pytest.Pytester,
) -> None:
    """No plugin fixture, no marker: the exported endpoint is served all the same."""
    inner.makepyfile(
        """
        import pytest_agentbay

        def test_own_client():
            with pytest_agentbay.AgentBay() as client:  # from AGENTBAY_ENDPOINT / _API_KEY
                session = client.create().session
                assert session.command.execute_command("echo hi").stdout == "hi\\n"
                assert client.delete(session).success
        """
    )
    result = _run(inner)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*local backend started on first use at http://127.0.0.1:*"])


def test_sigterm_after_a_lazy_start_deletes_the_sessions_and_removes_the_sandboxes(
    inner: pytest.Pytester,
) -> None:
    inner.makepyfile(
        """
        import os, pathlib, time

        def test_plain():
            pass

        def test_holds(agentbay_session, agentbay_session_factory):
            agentbay_session_factory()
            agentbay_session.command.execute_command("true")
            pathlib.Path(os.environ["READY_DIR"], "holds").touch()
            time.sleep(120)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", *LOCAL, "-p", "no:xdist"],
        cwd=inner.path, env=_scratch(inner), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, preexec_fn=_default_signals,
    )
    try:
        wait_for(lambda: (inner.path / "holds").exists(), "the test to hold its sessions")
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGTERM, out
    assert "local backend started on first use" in out
    assert "sessions: 2 created, 0 reused, 2 deleted, 0 leaked" in out, out
    assert list(Path(inner.path, "scratch").glob("agentbay-*")) == []


def test_a_backend_that_cannot_start_ends_the_run_at_first_use_saying_why(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_agentbay.emulator import core

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(core.Emulator, "__init__", broken)
    monkeypatch.delenv("AGENTBAY_API_KEY", raising=False)
    inner.makepyfile(
        """
        def test_plain():
            pass

        def test_session(agentbay_session):
            pass

        def test_never_runs(agentbay_session):
            pass
        """
    )
    # in-process: the broken emulator is this process's; sessions are not planned ahead, so
    # the first test that needs one starts it (the plain test before it ran)
    result = inner.runpytest(*LOCAL, "--agentbay-precreate=0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.assert_outcomes(passed=1)
    out = result.stdout.str() + result.stderr.str()
    assert "the local backend failed to start: OSError: No space left on device" in out
