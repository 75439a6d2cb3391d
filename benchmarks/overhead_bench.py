"""The overhead benchmark: what the plugin costs a suite that never uses AgentBay, and what
`pytest --agentbay` costs to start, each as a ratio against the same run with `-p no:agentbay`
measured in the same session.

Run: python benchmarks/overhead_bench.py [--tests 2000] [--repeat 5]
Scenarios (each run in a fresh interpreter, alternating with and without the plugin; the
median of `--repeat` runs is reported):
  - 2,000 trivial tests;            - the same with --collect-only;
  - the same with -n 2 (xdist);     - one trivial test with --agentbay (start-up and shutdown).
Goals: at most 3% on the first three; `--agentbay` start-up within 0.15 s of the run without
the plugin. Peak memory (max RSS) of the plain run is printed beside it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NO_PLUGIN = ("-p", "no:agentbay")
GOAL_RATIO = 1.03
GOAL_STARTUP_S = 0.15


def write_suite(root: Path, tests: int) -> None:
    """`tests` trivial tests in 20 modules, and a one-test suite for the start-up figure."""
    (root / "many").mkdir(parents=True)
    per_module = max(1, tests // 20)
    for module in range(tests // per_module):
        body = "".join(f"def test_{n}():\n    assert {n} == {n}\n\n" for n in range(per_module))
        (root / "many" / f"test_m{module}.py").write_text(body)
    (root / "one").mkdir()
    (root / "one" / "test_one.py").write_text("def test_one():\n    pass\n")
    for suite in ("many", "one"):
        (root / suite / "pytest.ini").write_text(
            "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        )


def timed(cwd: Path, args: tuple[str, ...]) -> tuple[float, int]:
    """Wall time (s) and peak memory (KiB) of one pytest run in a fresh interpreter."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("AGENTBAY_API_KEY", None)  # --agentbay uses the local backend
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"pytest failed: {' '.join(command)} in {cwd}")
    return elapsed, usage.ru_maxrss


def compare(cwd: Path, with_plugin: tuple[str, ...], without: tuple[str, ...], repeat: int):
    """Medians (time, memory) with and without the plugin, runs alternating."""
    runs: dict[bool, list[tuple[float, int]]] = {True: [], False: []}
    timed(cwd, without)  # warm the file cache
    for _ in range(repeat):
        runs[True].append(timed(cwd, with_plugin))
        runs[False].append(timed(cwd, without))
    return {
        used: (statistics.median(t for t, _ in r), statistics.median(m for _, m in r))
        for used, r in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="overhead-bench-") as scratch:
        root = Path(scratch)
        write_suite(root, options.tests)
        many, one = root / "many", root / "one"
        print(f"{options.tests} trivial tests, median of {options.repeat} runs each")
        scenarios = [
            ("plain run", many, ()),
            ("--collect-only", many, ("--collect-only",)),
            ("-n 2 (xdist)", many, ("-n", "2")),
        ]
        for name, cwd, args in scenarios:
            figures = compare(cwd, args, (*args, *NO_PLUGIN), options.repeat)
            (used_s, used_kib), (bare_s, bare_kib) = figures[True], figures[False]
            ratio = used_s / bare_s
            verdict = "ok" if ratio <= GOAL_RATIO else "over"
            print(
                f"{name:16} {used_s:6.2f} s vs {bare_s:6.2f} s without the plugin = "
                f"{ratio:.3f}x (goal <= {GOAL_RATIO}: {verdict}); max RSS "
                f"{used_kib / 1024:.1f} vs {bare_kib / 1024:.1f} MiB"
            )
        figures = compare(one, ("--agentbay",), NO_PLUGIN, options.repeat)
        extra = figures[True][0] - figures[False][0]
        verdict = "ok" if extra <= GOAL_STARTUP_S else "over"
        print(
            f"{'--agentbay, 1 test':16} {figures[True][0]:6.2f} s vs {figures[False][0]:6.2f} s "
            f"without the plugin = +{extra:.3f} s (goal <= +{GOAL_STARTUP_S} s: {verdict})"
        )


if __name__ == "__main__":
    main()
