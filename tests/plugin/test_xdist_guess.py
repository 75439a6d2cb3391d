"""Under pytest-xdist, a run of the same command as last time starts creating its first
sessions from the last run's plan while the workers start; the real plan then takes over, and
guessed sessions it does not need are deleted."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import CLOUD, Backend

MODULE_TESTS = """
import pytest

{marker}

@pytest.mark.parametrize("i", range(3))
def test_in_module(agentbay_module_session, i):
    assert agentbay_module_session.command.execute_command("echo %d" % i).success
    assert agentbay_module_session.image_id == "{image}"
"""
# Each worker notes how many creates had reached the backend when it began collecting: the
# first worker to begin precedes any collection, so the plan was not known yet.
PROBE = """
import json, os, urllib.request

import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_collection(session):
    if not hasattr(session.config, "workerinput"):
        return None
    request = urllib.request.Request(
        os.environ["AGENTBAY_ENDPOINT"] + "/_emulator/state",
        headers={"Authorization": "Bearer " + os.environ["AGENTBAY_API_KEY"]},
    )
    with urllib.request.urlopen(request) as reply:
        creates = json.loads(reply.read())["state"]["requests"].get("CreateMcpSession", 0)
    with open("creates-seen-at-collection.txt", "a") as out:
        out.write(json.dumps(creates) + "\\n")
    return None
"""


def modules(inner: pytest.Pytester, image_b: str = "linux_latest") -> None:
    marker = f'pytestmark = pytest.mark.agentbay(image="{image_b}")'
    inner.makepyfile(
        conftest=PROBE,
        test_a=MODULE_TESTS.format(marker="", image="linux_latest"),
        test_b=MODULE_TESTS.format(marker=marker, image=image_b),
    )


def run(
    inner: pytest.Pytester, backend: Backend, *args: str
) -> tuple[pytest.RunResult, list[int]]:
    """An inner run with pytest's cache on; the creates of this run that each worker saw
    reach the backend as it began collecting."""
    seen = Path(inner.path, "creates-seen-at-collection.txt")
    seen.unlink(missing_ok=True)
    before = backend.creates()
    # not runpytest_subprocess: its --basetemp differs per run, and another command's plan
    # is never guessed
    command = [sys.executable, "-m", "pytest", f"--basetemp={inner.path / 'tmp'}", *CLOUD]
    result = inner.run(*command, "-n", "2", *args, timeout=60)
    return result, [json.loads(line) - before for line in seen.read_text().splitlines()]


def test_a_rerun_creates_its_first_sessions_before_the_workers_collect(
    inner: pytest.Pytester, backend: Backend
) -> None:
    modules(inner)
    result, seen = run(inner, backend)
    result.assert_outcomes(passed=6)
    assert min(seen) == 0  # the first run has no plan to guess from: creates follow collection
    assert backend.creates() == 2

    result, seen = run(inner, backend)
    result.assert_outcomes(passed=6)
    assert min(seen) > 0  # created while the workers were still starting
    assert backend.creates() == 2 + 2  # the guessed sessions were the ones the tests used
    assert backend.live() == []

    result, seen = run(inner, backend, "-k", "test_a")  # another command: no guess
    result.assert_outcomes(passed=3)
    assert min(seen) == 0
    assert backend.creates() == 4 + 1
    assert backend.live() == []


def test_a_guessed_session_whose_settings_changed_is_deleted_unused(
    inner: pytest.Pytester, backend: Backend
) -> None:
    modules(inner, image_b="linux_latest")
    run(inner, backend)[0].assert_outcomes(passed=6)
    first = {s.session_id for s in backend.sessions()}

    modules(inner, image_b="code_latest")  # test_b's sessions now need another image
    result, seen = run(inner, backend)
    result.assert_outcomes(passed=6)  # each test checks the image of the session it got
    assert min(seen) > 0
    made = [s for s in backend.sessions() if s.session_id not in first]
    assert sorted(s.image_id for s in made) == ["code_latest", "linux_latest", "linux_latest"]
    spare = [s for s in made if s.labels.get("pytest-agentbay.worker") == "pool"]
    assert len(spare) == 1 and spare[0].image_id == "linux_latest"  # guessed, never claimed
    assert backend.live() == []
    result.stdout.fnmatch_lines(
        ["sessions: 3 created, *, 0 leaked (1 made ahead of time and not needed)"]
    )


def test_a_signal_while_guessed_creates_are_in_flight_leaves_no_session(
    inner: pytest.Pytester, backend: Backend
) -> None:
    modules(inner)
    run(inner, backend)[0].assert_outcomes(passed=6)  # the plan to guess from
    before = backend.creates()
    backend.emulator.set_latency("CreateMcpSession", 2.0)  # the guessed creates stay in flight
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", f"--basetemp={inner.path / 'tmp'}", *CLOUD, "-n", "2"],
        cwd=inner.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while backend.creates() == before:  # a guessed create has reached the backend
        assert process.poll() is None and time.monotonic() < deadline, "no guessed create"
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM, out
    assert backend.live() == [], out  # the in-flight creates were waited for and deleted
    assert "SIGTERM received: stopped starting tests, deleted the sessions the run held" in out
    assert re.search(r"sessions: 2 created, 0 reused, 2 deleted, 0 leaked \(2 made ahead", out)
