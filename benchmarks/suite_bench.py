"""The suite benchmark: a realistic suite on a backend with cloud-like latency, run the naive
way (a per-test fixture that creates and deletes a session, serially) and with this plugin
at -n 1 and -n 4, against the critical-path limit for -n 4.

Run: python benchmarks/suite_bench.py [--skip-naive]
The backend is the local emulator in its own process, with latency set to look like the cloud:
create 1 s, delete 0.5 s, each command 50 ms. Suite: 6 modules x 8 tests on
`agentbay_module_session`, plus 8 tests on `agentbay_session`; each test runs 4 commands.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

KEY = "bench-suite-key"
CREATE, DELETE, COMMAND = 1.0, 0.5, 0.05
MODULES, PER_MODULE, FUNCTION_TESTS, COMMANDS = 6, 8, 8, 4

MODULE_TEST = """
import pytest

@pytest.mark.parametrize("i", range({per_module}))
def test_in_module(agentbay_module_session, i):
    for n in range({commands}):
        assert agentbay_module_session.command.execute_command(f"echo {{n}}").success
"""
FUNCTION_TEST = """
import pytest

@pytest.mark.parametrize("i", range({count}))
def test_alone(agentbay_session, i):
    for n in range({commands}):
        assert agentbay_session.command.execute_command(f"echo {{n}}").success
"""
NAIVE_CONFTEST = """
import pytest
from pytest_agentbay import AgentBay

@pytest.fixture
def agentbay_module_session():
    with AgentBay() as client:
        session = client.create().session
        yield session
        client.delete(session)

agentbay_session = agentbay_module_session
"""


def write_suite(root: Path, naive: bool) -> None:
    root.mkdir(parents=True)
    (root / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    for m in range(MODULES):
        (root / f"test_module_{m}.py").write_text(
            MODULE_TEST.format(per_module=PER_MODULE, commands=COMMANDS))
    (root / "test_functions.py").write_text(
        FUNCTION_TEST.format(count=FUNCTION_TESTS, commands=COMMANDS))
    if naive:
        (root / "conftest.py").write_text(textwrap.dedent(NAIVE_CONFTEST))


class Backend:
    """The emulator in its own process, with cloud-like latency."""

    def __init__(self) -> None:
        args = [sys.executable, "-m", "pytest_agentbay.emulator",
                "--latency", f"CreateMcpSession={CREATE}",
                "--latency", f"DeleteSessionAsync={DELETE}", "--latency", f"shell={COMMAND}"]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True,
                                        env=dict(os.environ, AGENTBAY_EMULATOR_API_KEY=KEY))
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        self.url = line.split()[line.split().index("on") + 1]

    def state(self) -> dict[str, object]:
        request = urllib.request.Request(f"{self.url}/_emulator/state",
                                         headers={"Authorization": f"Bearer {KEY}"})
        with urllib.request.urlopen(request) as reply:
            return json.loads(reply.read())["state"]  # type: ignore[no-any-return]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def run_suite(backend: Backend, suite: Path, *args: str) -> tuple[float, int, int]:
    """Seconds, sessions created, sessions left alive."""
    env = {**os.environ, "AGENTBAY_ENDPOINT": backend.url, "AGENTBAY_API_KEY": KEY}
    env.pop("AGENTBAY_REGION_ID", None)
    before = backend.state()["requests"].get("CreateMcpSession", 0)  # type: ignore[union-attr]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *args, str(suite)], env=env, capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-2000:])
        raise SystemExit(f"suite failed: {' '.join(args)}")
    state = backend.state()
    created = state["requests"].get("CreateMcpSession", 0) - before  # type: ignore[union-attr]
    return took, created, int(state["live"])  # type: ignore[call-overload]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-naive", action="store_true", help="skip the ~100 s naive run")
    args = parser.parse_args()
    tests = MODULES * PER_MODULE + FUNCTION_TESTS
    limit = tests * COMMANDS * COMMAND / 4 + CREATE
    backend = Backend()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            plugin_suite, naive_suite = Path(tmp, "suite"), Path(tmp, "naive")
            empty = Path(tmp, "empty")
            write_suite(plugin_suite, naive=False)
            write_suite(naive_suite, naive=True)
            empty.mkdir()
            (empty / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
            startup = min(  # the quickest of three: start-up time is noisy on 2 cores
                run_suite(backend, empty, "-n", "4", "--agentbay", "--agentbay-backend=cloud")[0]
                for _ in range(3)
            )
            print(f"suite: {tests} tests x {COMMANDS} commands; latency: create {CREATE} s, "
                  f"delete {DELETE} s, command {COMMAND * 1000:.0f} ms")
            print(f"pytest -n 4 --agentbay start-up and shutdown alone (one empty test): "
                  f"{startup:.2f} s")
            naive = None
            if not args.skip_naive:
                naive, created, live = run_suite(backend, naive_suite, "-p", "no:agentbay")
                print(f"naive per-test fixture, serial:   {naive:7.2f} s  ({created} sessions "
                      f"created, {live} left)")
            for workers in ("1", "4"):
                took, created, live = min(  # the better of two runs
                    run_suite(backend, plugin_suite, "--agentbay", "--agentbay-backend=cloud",
                              "-n", workers)
                    for _ in range(2)
                )
                line = (f"pytest-agentbay -n {workers}:             {took:7.2f} s  ({created} "
                        f"sessions created, {live} left)")
                if naive:
                    line += f"  {naive / took:5.1f}x faster than naive"
                print(line)
            print(f"critical-path limit for -n 4:     {limit:7.2f} s  (commands / 4 + one create)")
            print(f"-n 4 / limit: {took / limit:.2f} (goal <= 1.5); without start-up and "
                  f"shutdown: {(took - startup) / limit:.2f}")
            print(f"sessions created: {created} (goal {MODULES + FUNCTION_TESTS}); left: {live} "
                  f"(goal 0)")
    finally:
        backend.stop()


if __name__ == "__main__":
    main()
