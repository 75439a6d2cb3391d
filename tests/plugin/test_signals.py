"""SIGTERM, SIGHUP and a vanished xdist controller: the run stops, deletes what it holds, and
ends within a bound. Real signals to a real inner pytest process; each process starts with the
signals this test sends set to their default handling, whatever the outer shell ignores."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_agentbay import AgentBay, Config, EmulatorControl

from .conftest import CLOUD, KEY, QUIET, Backend

SENT = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
BOUND_S = 30.0  # the run must end within this after the signal (it takes ~1-3 s)

HOLDING = """
import os, pathlib, time

def test_holds(agentbay_shared_session, agentbay_module_session, agentbay_session,
               agentbay_session_factory):
    agentbay_session_factory()
    agentbay_session_factory()
    pathlib.Path(os.environ["READY_DIR"], "holds").touch()
    time.sleep(120)

def test_never_runs(agentbay_session):
    pass
"""

XDIST_HOLDING = """
import os, pathlib, time
import pytest

@pytest.mark.parametrize("n", range(4))
def test_holds(n, agentbay_session, agentbay_session_factory):
    agentbay_session_factory()
    pathlib.Path(os.environ["READY_DIR"], f"holds-{n}").touch()
    time.sleep(120)
"""


def _default_signals() -> None:
    """In the child, before exec: the signals we send get their default handling."""
    for signum in SENT:
        signal.signal(signum, signal.SIG_DFL)


def start(pytester: pytest.Pytester, *args: str) -> subprocess.Popen[str]:
    """An inner `pytest` in its own process, its signals at their defaults."""
    env = {**os.environ, "READY_DIR": str(pytester.path)}
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", *CLOUD, *QUIET, "-p", "no:randomly", *args],
        cwd=pytester.path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_default_signals,
    )


def wait_for(check: object, what: str, seconds: float = 60.0) -> None:
    """Poll `check()` until true; fail naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def ready(pytester: pytest.Pytester, count: int) -> bool:
    return len(list(Path(pytester.path).glob("holds*"))) >= count


def stop(process: subprocess.Popen[str], signum: int) -> tuple[int, str, float]:
    """Send `signum`; the exit status, output and seconds the process took to end."""
    sent = time.monotonic()
    process.send_signal(signum)
    try:
        out, _ = process.communicate(timeout=BOUND_S)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
        pytest.fail(f"the run did not end within {BOUND_S} s of the signal:\n{out}")
    return process.returncode, out, time.monotonic() - sent


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_mid_test_deletes_every_session_and_exits_conventionally(
    inner: pytest.Pytester, backend: Backend, signum: int
) -> None:
    inner.makepyfile(test_hold=HOLDING)
    process = start(inner)
    wait_for(lambda: ready(inner, 1), "the test to hold its sessions")
    assert len(backend.live()) >= 5  # shared, module, function and two from the factory
    status, out, took = stop(process, signum)
    assert status == 128 + signum, out
    assert backend.live() == [], out
    assert took < BOUND_S
    name = signal.Signals(signum).name
    assert f"{name} received: stopped starting tests, deleted the sessions the run held" in out
    assert "1 passed" not in out  # test_never_runs never started (its session made ahead
    # of time, if any, was deleted with the rest)


def test_a_second_signal_exits_at_once(inner: pytest.Pytester, backend: Backend) -> None:
    inner.makepyfile(
        test_slow_teardown="""
        import os, pathlib, time
        import pytest

        @pytest.fixture
        def slow_teardown():
            yield
            pathlib.Path(os.environ["READY_DIR"], "holds").touch()
            time.sleep(120)  # a teardown that hangs: the second signal must not wait for it

        def test_holds(agentbay_session, slow_teardown):
            raise KeyboardInterrupt  # stop as on Ctrl-C: the teardown starts
        """
    )
    process = start(inner)
    wait_for(lambda: ready(inner, 1), "the teardown to start")
    process.send_signal(signal.SIGTERM)  # noted: the run is already cleaning up
    time.sleep(0.2)
    status, out, took = stop(process, signal.SIGTERM)
    assert status == 128 + signal.SIGTERM, out
    assert took < 5.0


def test_sigterm_to_the_xdist_controller_stops_the_workers_and_deletes_everything(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makepyfile(test_hold=XDIST_HOLDING)
    process = start(inner, "-n", "2")
    wait_for(lambda: ready(inner, 2), "both workers to hold sessions")
    status, out, _ = stop(process, signal.SIGTERM)
    assert status == 128 + signal.SIGTERM, out
    assert backend.live() == [], out
    figures = re.search(r"sessions: (\d+) created, \d+ reused, (\d+) deleted, (\d+) leaked", out)
    assert figures is not None, out
    made, deleted, leaked = map(int, figures.groups())  # the workers' figures are summed too
    assert made == backend.creates() == deleted + leaked, out
    created = backend.creates()
    time.sleep(1.0)  # no worker goes on creating once the controller is gone
    assert backend.creates() == created
    assert backend.live() == []


def test_workers_of_a_killed_controller_delete_the_runs_sessions_and_exit(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makepyfile(
        test_hold=XDIST_HOLDING,
        test_shared="def test_shared(agentbay_shared_session):\n    pass\n",
    )
    process = start(inner, "-n", "2")
    wait_for(lambda: ready(inner, 2), "both workers to hold sessions")
    assert len(backend.live()) >= 4
    process.kill()  # SIGKILL: nothing in the controller runs
    process.communicate()
    wait_for(lambda: backend.live() == [], "the orphaned workers to delete the sessions", 15.0)
    created = backend.creates()
    time.sleep(1.0)
    assert backend.creates() == created  # and they stopped
    assert backend.live() == []


@pytest.fixture
def own_process_backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`python -m pytest_agentbay.emulator` in a process of its own (real time, its own sweep),
    reachable through AGENTBAY_ENDPOINT / AGENTBAY_API_KEY; yields its URL."""
    server = subprocess.Popen(
        [sys.executable, "-m", "pytest_agentbay.emulator", "--isolation", "directories"],
        env={**os.environ, "AGENTBAY_EMULATOR_API_KEY": KEY},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=_default_signals,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        found = re.search(r"listening on (\S+)", line)
        assert found, line
        monkeypatch.setenv("AGENTBAY_ENDPOINT", found.group(1))
        monkeypatch.setenv("AGENTBAY_API_KEY", KEY)
        yield found.group(1)
    finally:
        server.send_signal(signal.SIGTERM)  # the emulator stops on it (its own handler)
        try:
            server.communicate(timeout=BOUND_S)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()


def test_sessions_of_a_run_killed_outright_are_released_by_the_backend(
    inner: pytest.Pytester, own_process_backend: str
) -> None:
    """What reclaims sessions of a run killed outright (SIGKILL, OOM, a lost machine): the
    service's own expiry, which the run asks for with --agentbay-session-expiry."""
    inner.makepyfile(test_hold=HOLDING)
    process = start(inner, "--agentbay-session-expiry=3")  # a heartbeat every 0.75 s till then
    wait_for(lambda: ready(inner, 1), "the test to hold its sessions")
    process.kill()  # SIGKILL: no teardown, no sweep, no more heartbeat
    killed = time.monotonic()
    process.communicate()
    control = EmulatorControl(own_process_backend, KEY)
    try:
        assert control.state()["live"] >= 5  # shared, module, function, two from the factory
        wait_for(lambda: control.state()["live"] == 0, "the backend to release them", 20.0)
        took = time.monotonic() - killed
        state = control.state()
    finally:
        control.close()
    assert state["sessions"].keys() == {"FINISH"}, state
    assert took < 3 + 5, took  # the expiry, plus the sweep's and a loaded machine's slack
    with AgentBay(KEY, Config(own_process_backend)) as client:
        assert client.list().session_ids == []
