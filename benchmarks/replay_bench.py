"""Replay at suite scale, and start-up: what replaying a suite of session tests adds per test
over the same number of tests without AgentBay, beside pytest-recording replaying the same
number of plain httpx requests per test; the peak memory each adds; and what `--agentbay` adds
to the start-up of a one-test run.

Run: python benchmarks/replay_bench.py [--tests N] [--rounds R]
Needs pytest-recording installed (the `test` extra has it). Every figure is measured in this
run; the cassettes are recorded from the local backend first, so nothing needs a key or the
network. Each run is a fresh `python -m pytest` process; times are CPU seconds (least of R
runs): of the test loop for the per-test figures, of the whole process for start-up; memory is
the process's peak RSS.
"""

from __future__ import annotations

import argparse
import http.server
import importlib.util
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import NamedTuple

import yaml  # type: ignore[import-untyped]

TESTS, COMMANDS = 200, 5
RUNNER = """
import resource, sys, time
import pytest

class Timer:
    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session):
        started = time.process_time()
        try:
            return (yield)
        finally:
            self.cpu = time.process_time() - started

timer = Timer()
code = pytest.main(sys.argv[1:], plugins=[timer])
me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
print("cpu", cpu, timer.cpu, me.ru_maxrss, file=sys.stderr)
sys.exit(code)
"""
PLAIN = """
import pytest

@pytest.mark.parametrize("i", range({tests}))
def test_plain(i):
    for n in range({commands}):
        assert str(n)
"""
OURS = """
import pytest

@pytest.mark.parametrize("i", range({tests}))
def test_session(agentbay_session, i):
    for n in range({commands}):
        assert agentbay_session.command.execute_command(f"echo {{n}}").stdout == f"{{n}}\\n"
"""
RECORDING = """
import os
import httpx
import pytest

client = httpx.Client()  # one for the module: no TLS set-up counted per test
URL = os.environ["BENCH_URL"]

@pytest.mark.vcr
@pytest.mark.parametrize("i", range({tests}))
def test_plain_httpx(i):
    for n in range({requests}):
        reply = client.post(f"{{URL}}/?Action=Call&N={{n}}", data={{"Args": f"echo {{n}}"}})
        assert reply.json()["n"] == n
"""


class _Echo(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        number = self.path.rpartition("N=")[2]
        body = f'{{"n": {number}, "Data": "x"}}'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class Figures(NamedTuple):
    """One suite's figures: least CPU seconds of the whole process (with its children) and of
    the test loop alone (set-up, call and teardown of every test), largest peak RSS (KiB)."""

    process: float
    loop: float
    peak: int


def run(where: Path, *args: str, rounds: int = 1, env: dict[str, str] | None = None
        ) -> Figures:
    """`rounds` runs of pytest in `where`. CPU time, not wall clock: on a shared machine the
    wall clock measures the neighbours."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AGENTBAY_")}
    environment.update(env or {})
    process, loop, peak = float("inf"), float("inf"), 0
    for _ in range(rounds):
        done = subprocess.run([sys.executable, "-c", RUNNER, "-q", *args], cwd=where,
                              env=environment, capture_output=True, text=True)
        if done.returncode != 0 or " passed" not in done.stdout:
            print(done.stdout[-3000:], done.stderr[-2000:])
            raise SystemExit(f"run failed in {where.name}: {' '.join(args)}")
        figures = done.stderr.rsplit("cpu", 1)[1].split()
        process, loop = min(process, float(figures[0])), min(loop, float(figures[1]))
        peak = max(peak, int(figures[2]))
    return Figures(process, loop, peak)


def interactions_per_test(cassettes: Path) -> float:
    """The mean number of recorded interactions in the cassettes under `cassettes`."""
    counts = [len(yaml.safe_load(p.read_text())["interactions"])
              for p in cassettes.rglob("*.yaml")]
    return sum(counts) / len(counts)


def make(root: Path, name: str, text: str) -> Path:
    root.mkdir()
    (root / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    (root / f"test_{name}.py").write_text(text)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tests", type=int, default=TESTS, help="tests per suite")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each suite (best taken)")
    parser.add_argument("--startup-only", action="store_true",
                        help="only the start-up figure (a few seconds)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.startup_only:
            replay(Path(tmp), args.tests, args.rounds)
        startup(Path(tmp), args.rounds)


def replay(tmp: Path, n: int, rounds: int) -> None:
    """Record, then replay: ours, the plain baseline and pytest-recording; print the figures."""
    if importlib.util.find_spec("pytest_recording") is None:
        raise SystemExit("the baseline needs pytest-recording: pip install pytest-recording")
    plain = make(Path(tmp, "plain"), "plain", PLAIN.format(tests=n, commands=COMMANDS))
    ours = make(Path(tmp, "ours"), "session", OURS.format(tests=n, commands=COMMANDS))
    run(ours, "--agentbay", "--agentbay-backend=local", "--agentbay-record-mode=once")
    per_test = interactions_per_test(ours / "cassettes")
    requests = round(per_test)
    theirs = make(Path(tmp, "theirs"), "httpx", RECORDING.format(tests=n, requests=requests))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = {"BENCH_URL": f"http://127.0.0.1:{server.server_address[1]}"}
    run(theirs, "--record-mode=once", env=url)
    server.shutdown()
    base = run(plain, rounds=rounds)
    mine = run(ours, rounds=rounds)
    other = run(theirs, "--record-mode=none", rounds=rounds, env=url)
    report(n, per_test, requests, rounds, base, mine, other)


def startup(tmp: Path, rounds: int) -> None:
    """CPU seconds of a whole one-test run with --agentbay (local backend) and without the
    plugin, alternating (least of 2 x `rounds` each); then a one-session test beside it."""
    one = make(Path(tmp, "one"), "one", "def test_one():\n    pass\n")
    local = ("--agentbay", "--agentbay-backend=local")
    bare = started = Figures(float("inf"), float("inf"), 0)
    for _ in range(rounds * 2):
        bare = min(bare, run(one, "-p", "no:agentbay"))
        started = min(started, run(one, *local))
    extra = started.process - bare.process
    print(f"start-up, one plain test (CPU): without the plugin {bare.process:.3f} s, with "
          f"--agentbay {started.process:.3f} s = +{extra:.3f} s "
          f"(goal +0.15 s: {'ok' if extra <= 0.15 else 'MISSED'})")
    session = make(Path(tmp, "session"), "one", "def test_one(agentbay_session):\n    pass\n")
    used = min(run(session, *local) for _ in range(rounds))
    print(f"one test taking a session (CPU), for comparison: {used.process:.3f} s = "
          f"+{used.process - bare.process:.3f} s over the plain run without the plugin")


def report(n: int, per_test: float, requests: int, rounds: int, base: Figures, mine: Figures,
           other: Figures) -> None:
    """Print the replay figures beside their baselines."""
    ms = [(f.loop - base.loop) / n * 1000 for f in (mine, other)]
    print(f"{n} tests x {COMMANDS} commands ({per_test:.1f} recorded interactions per test); "
          f"CPU time of the test loop, least of {rounds} runs")
    print(f"same {n} tests without AgentBay:          {base.loop:6.3f} s (baseline)")
    print(f"replayed by pytest-agentbay:            {mine.loop:6.3f} s = +{ms[0]:5.2f} ms per "
          f"test (goal +3 ms: {'ok' if ms[0] <= 3 else 'MISSED'})")
    print(f"pytest-recording, {requests} httpx requests/test: {other.loop:6.3f} s = +{ms[1]:5.2f} "
          f"ms per test")
    print(f"pytest-recording / pytest-agentbay per test: {ms[1] / ms[0]:.1f}x "
          f"(goal >= 3x: {'ok' if ms[1] >= 3 * ms[0] else 'MISSED'})")
    whole = [f.process - base.process for f in (mine, other)]
    print(f"whole process (start-up and imports too): baseline {base.process:.3f} s, "
          f"pytest-agentbay +{whole[0]:.3f} s, pytest-recording +{whole[1]:.3f} s")
    growth = [(f.peak - base.peak) / 1024 for f in (mine, other)]
    print(f"peak memory growth over the baseline's {base.peak / 1024:.1f} MiB: pytest-agentbay "
          f"+{growth[0]:.1f} MiB, pytest-recording +{growth[1]:.1f} MiB "
          f"(goal: no more: {'ok' if growth[0] <= growth[1] else 'MISSED'})")


if __name__ == "__main__":
    main()
