"""Sandbox benchmark: what isolating a session costs, measured on the sandbox itself.

Run: python benchmarks/sandbox_bench.py [--quick] [--sessions N]
Figures: a session's first command (making the sandbox, then ``true``), the per-command
overhead over bare ``bash -c true`` (baseline measured in the same run), memory (PSS) of a live
session's processes, and N live sessions (default 500) each running a command. It uses only
``Sandbox(root, name, "namespaces")`` and ``run``, so it also runs against older checkouts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from emulator_bench import median_ms  # this directory is on sys.path when run as a script

from pytest_agentbay.emulator.sandbox import Sandbox

MODE = "namespaces"


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the sandboxes' helpers and whatever they started)."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                children = [int(child) for child in task.read_text().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def pss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def first_command(root: Path, runs: int) -> None:
    samples = []
    for i in range(runs):
        started = time.perf_counter()
        box = Sandbox(root, f"first-{i}", MODE)
        assert box.run("true", timeout_ms=10_000).exit_code == 0
        samples.append(time.perf_counter() - started)
        box.close()
    print(f"first command of a session (sandbox made, then `true`): median "
          f"{statistics.median(samples) * 1000:6.1f} ms over {runs}")


def command_overhead(root: Path, runs: int) -> None:
    bare = median_ms(lambda: subprocess.run(["bash", "-c", "true"], capture_output=True), runs)
    box = Sandbox(root, "overhead", MODE)
    try:
        took = median_ms(lambda: box.run("true", timeout_ms=10_000), runs)
    finally:
        box.close()
    extra = took - bare
    verdict = "ok" if extra <= 2.0 else "MISSED"
    print(f"bare `bash -c true` subprocess:   median {bare:6.2f} ms (baseline)")
    print(f"Sandbox.run('true'):              median {took:6.2f} ms = {took / bare:4.2f}x bare, "
          f"{extra:+.2f} ms (goal +2 ms: {verdict})")


def live_sessions(root: Path, count: int, label: str) -> None:
    """``count`` live sessions, each running a command (8 at a time); memory per session."""
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        boxes = list(pool.map(lambda i: Sandbox(root, f"{label}-{i}", MODE), range(count)))
    made = time.perf_counter() - started
    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda b: b.run("echo $((6*7))", timeout_ms=60_000), boxes))
        ran = time.perf_counter() - started
        errors = sum(r.stdout != "42\n" for r in results)
        pids = descendants(os.getpid())
        per_session = pss_mib(pids) / count
        print(f"{count} live sessions: made in {made:5.1f} s, one command each in {ran:5.1f} s, "
              f"{errors} errors; {len(pids) / count:.1f} processes and {per_session:.2f} MiB PSS "
              f"per session")
    finally:
        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda b: b.close(), boxes))
        print(f"{count} sessions closed in {time.perf_counter() - started:5.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke test")
    parser.add_argument("--sessions", type=int, default=500, help="live sessions at once")
    args = parser.parse_args()
    runs, first, many = (30, 3, 10) if args.quick else (300, 20, args.sessions)
    with tempfile.TemporaryDirectory(prefix="sandbox-bench-") as tmp:
        root = Path(tmp)
        first_command(root, first)
        command_overhead(root, runs)
        live_sessions(root, 20, "twenty")
        live_sessions(root, many, "many")


if __name__ == "__main__":
    main()
