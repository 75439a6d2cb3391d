"""The suite benchmark: a realistic suite on a backend with cloud-like latency, run the naive
way (a per-test fixture that creates and deletes a session, serially) and with this plugin
at -n 1 and -n 4 (without and with the last run's plan in pytest's cache), against the
critical-path limit for -n 4, with the timeline of the -n 4 runs.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KEY = "bench-suite-key"
CREATE, DELETE, COMMAND = 1.0, 0.5, 0.05
LATENCY = {"CreateMcpSession": CREATE, "DeleteSessionAsync": DELETE, "shell": COMMAND}
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
PROBE = """
import json, os, time

def _stamp(name):
    with open(os.path.join(os.environ["SUITE_PROBE_DIR"], f"{os.getpid()}.jsonl"), "a") as out:
        out.write(json.dumps([name, time.time()]) + "\\n")

def pytest_configure(config):
    _stamp("worker up" if hasattr(config, "workerinput") else "controller up")

def pytest_collection_finish(session):
    if hasattr(session.config, "workerinput"):
        _stamp("worker collected")

def pytest_runtest_setup(item):
    _stamp("test starts")

def pytest_unconfigure(config):
    _stamp("worker done" if hasattr(config, "workerinput") else "controller done")
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
        args = [sys.executable, "-m", "pytest_agentbay.emulator"]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True,
                                        env=dict(os.environ, AGENTBAY_EMULATOR_API_KEY=KEY))
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        self.url = line.split()[line.split().index("on") + 1]
        self.fresh()

    def _call(self, knob: str, body: dict[str, object] | None = None) -> dict[str, object]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/_emulator/{knob}", data=data,
                                         headers={"Authorization": f"Bearer {KEY}"})
        with urllib.request.urlopen(request) as reply:
            return json.loads(reply.read())["state"]  # type: ignore[no-any-return]

    def fresh(self) -> None:
        """Request counts and stamps from zero; the latency knobs set again (reset clears them)."""
        self._call("reset", {})
        for action, seconds in LATENCY.items():
            self._call("latency", {"action": action, "seconds": seconds})

    def state(self) -> dict[str, Any]:
        return self._call("state")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@dataclass
class Result:
    took: float  # seconds, pytest's start to its exit
    created: int  # sessions, counted by the backend
    live: int  # sessions left alive
    timeline: list[tuple[float, str]]  # (seconds since start, what happened), in order


def run_suite(backend: Backend, suite: Path, *args: str, cache: bool = False) -> Result:
    """Run pytest on `suite`; the backend's counts, and the run's timeline: the probe's stamps
    (worker start, collection, tests) and the backend's (first/last create, command, delete)."""
    env = {**os.environ, "AGENTBAY_ENDPOINT": backend.url, "AGENTBAY_API_KEY": KEY}
    env.pop("AGENTBAY_REGION_ID", None)
    backend.fresh()
    with tempfile.TemporaryDirectory() as probes:
        paths = [str(suite.parent), *filter(None, [os.environ.get("PYTHONPATH")])]
        env.update(SUITE_PROBE_DIR=probes, PYTHONPATH=os.pathsep.join(paths))
        started = time.time()
        quiet = () if cache else ("-p", "no:cacheprovider")  # the cache: the last run's plan
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", *quiet,
                               "-p", "suite_probe", *args, str(suite)],
                              env=env, capture_output=True, text=True)
        ended = time.time()
        stamps = [json.loads(line) for f in Path(probes).iterdir()
                  for line in f.read_text().splitlines()]
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-2000:])
        raise SystemExit(f"suite failed: {' '.join(args)}")
    state = backend.state()
    return Result(ended - started, state["requests"].get("CreateMcpSession", 0),
                  int(state["live"]), timeline(started, ended, stamps, state.get("stamps", {})))


def timeline(started: float, ended: float, probe: list[list[Any]],
             backend: dict[str, list[float]]) -> list[tuple[float, str]]:
    """The first and last of each probe stamp, and the backend's first/last calls."""
    events: list[tuple[float, str]] = [(ended, "pytest exits")]
    for name in sorted({name for name, _ in probe}):
        times = [t for n, t in probe if n == name]
        events += [(min(times), f"first {name}"), (max(times), f"last {name}")]
    for action, label in (("CreateMcpSession", "create request"), ("shell", "command"),
                          ("DeleteSessionAsync", "delete request")):
        if action in backend:
            first, last = backend[action]
            events += [(first, f"first {label}"), (last, f"last {label}")]
    return sorted((t - started, what) for t, what in events)


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
            Path(tmp, "suite_probe.py").write_text(PROBE)
            empty.mkdir()
            (empty / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
            print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            startup = min(  # the quickest of three: start-up time is noisy on 2 cores
                run_suite(backend, empty, "-n", "4", "--agentbay", "--agentbay-backend=cloud").took
                for _ in range(3)
            )
            print(f"suite: {tests} tests x {COMMANDS} commands; latency: create {CREATE} s, "
                  f"delete {DELETE} s, command {COMMAND * 1000:.0f} ms")
            print(f"pytest -n 4 --agentbay start-up and shutdown alone (one empty test): "
                  f"{startup:.2f} s")
            naive = None
            if not args.skip_naive:
                got = run_suite(backend, naive_suite, "-p", "no:agentbay")
                naive = got.took
                print(f"naive per-test fixture, serial:   {naive:7.2f} s  ({got.created} sessions "
                      f"created, {got.live} left)")
            plugin_runs(backend, plugin_suite, naive, limit, startup)
            print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        backend.stop()


def plugin_runs(backend: Backend, suite: Path, naive: float | None, limit: float,
                startup: float) -> None:
    """-n 1, then -n 4 without the last run's plan (pytest's cache off, or empty: the first
    run of a command) and with it (the next run of the same command); the better of two each."""
    cloud = ("--agentbay", "--agentbay-backend=cloud")
    runs = {
        "-n 1": [run_suite(backend, suite, *cloud, "-n", "1") for _ in range(2)],
        "-n 4, no cached plan": [run_suite(backend, suite, *cloud, "-n", "4"),
                                 run_suite(backend, suite, *cloud, "-n", "4", cache=True)],
        "-n 4, cached plan": [run_suite(backend, suite, *cloud, "-n", "4", cache=True)
                              for _ in range(2)],
    }
    for name, results in runs.items():
        got = min(results, key=lambda r: r.took)
        line = (f"pytest-agentbay {name + ':':21} {got.took:7.2f} s  ({got.created} sessions "
                f"created, {got.live} left)")
        if naive:
            line += f"  {naive / got.took:5.1f}x faster than naive"
        print(line)
    print(f"critical-path limit for -n 4:     {limit:7.2f} s  (commands / 4 + one create)")
    for name in ("-n 4, no cached plan", "-n 4, cached plan"):
        got = min(runs[name], key=lambda r: r.took)
        print(f"{name}: {got.took / limit:.2f}x the limit raw (goal <= 1.5); without start-up "
              f"and shutdown: {(got.took - startup) / limit:.2f}x")
        at = {what: when for when, what in got.timeline}
        if "first command" in at:  # the part of the create latency on the critical path
            print(f"  first test's wait for its session (first command - first test starts): "
                  f"{at['first command'] - at['first test starts']:.2f} s; first create "
                  f"request {at['first create request'] - at['first worker up']:+.2f} s "
                  f"from the first worker's start")
    print(f"sessions created per run: {[r.created for rs in runs.values() for r in rs]} (goal "
          f"{MODULES + FUNCTION_TESTS}); left: {[r.live for rs in runs.values() for r in rs]}")
    for name in ("-n 4, no cached plan", "-n 4, cached plan"):
        print(f"timeline of the better {name} run (seconds since pytest started):")
        for when, what in min(runs[name], key=lambda r: r.took).timeline:
            print(f"  {when:6.2f}  {what}")


if __name__ == "__main__":
    main()
