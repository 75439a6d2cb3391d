"""Local backend benchmark: command overhead, API call rate, and 100 concurrent sessions.

Run: python benchmarks/emulator_bench.py [--quick]
Command overhead is measured with the emulator in this process (in-process and loopback); the
call rate and the concurrent sessions against `python -m pytest_agentbay.emulator`.
Every figure is measured in this run, against a baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable

from pytest_agentbay import AgentBay, AsyncAgentBay, Config
from pytest_agentbay.emulator import Emulator, EmulatorServer, EmulatorTransport

KEY = "bench-key"


def median_ms(fn: Callable[[], object], runs: int) -> float:
    for _ in range(min(20, runs)):  # warm up
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def command_overhead(emulator: Emulator, url: str, runs: int) -> None:
    bare = median_ms(lambda: subprocess.run(["bash", "-c", "true"], capture_output=True), runs)
    print(f"bare `bash -c true` subprocess:       median {bare:6.2f} ms (baseline)")
    clients = {
        "in-process": AgentBay(KEY, Config("http://emulator.local"),
                               transport=EmulatorTransport(emulator)),
        "loopback": AgentBay(KEY, Config(url)),
    }
    goals = {"in-process": 2.0, "loopback": 5.0}
    for name, client in clients.items():
        session = client.create().session
        assert session is not None
        run = session.command.execute_command
        assert run("true").success
        took = median_ms(lambda run=run: run("true"), runs)
        extra = took - bare
        verdict = "ok" if extra <= goals[name] else "MISSED"
        print(f"execute_command, {name + ':':12}       median {took:6.2f} ms = "
              f"{took / bare:4.2f}x bare, +{extra:.2f} ms (goal +{goals[name]:.0f} ms: {verdict})")
        session.delete()
        client.close()


def _hammer(client: AgentBay, session_id: str, deadline: float, counts: list[int], i: int) -> None:
    while time.perf_counter() < deadline:
        assert client.get_session(session_id).success
        counts[i] += 1


def call_rate(url: str, seconds: float) -> None:
    for threads in (1, 4):
        clients = [AgentBay(KEY, Config(url)) for _ in range(threads)]
        session = clients[0].create().session
        assert session is not None
        counts = [0] * threads
        deadline = time.perf_counter() + seconds

        workers = [
            threading.Thread(target=_hammer, args=(c, session.session_id, deadline, counts, i))
            for i, c in enumerate(clients)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        rate = sum(counts) / seconds
        verdict = "ok" if rate >= 500 else "MISSED"
        print(f"no-op GetSession over loopback, {threads} client(s): {rate:7.0f} calls/s "
              f"= {rate / 500:4.1f}x the goal of 500/s ({verdict})")
        session.delete()
        for client in clients:
            client.close()


async def concurrent_sessions(url: str, sessions: int) -> None:
    errors: list[str] = []
    async with AsyncAgentBay(KEY, Config(url)) as client:
        started = time.perf_counter()
        created = await asyncio.gather(*(client.create() for _ in range(sessions)))
        made = [r.session for r in created if r.success and r.session is not None]
        errors += [r.error_message for r in created if not r.success]

        async def two_commands(index: int, session: object) -> None:
            run = session.command.execute_command  # type: ignore[attr-defined]
            results = await asyncio.gather(run(f"sleep 0.2; echo {index}-a"),
                                           run(f"sleep 0.2; echo {index}-b"))
            for suffix, result in zip("ab", results, strict=True):
                if result.stdout != f"{index}-{suffix}\n":
                    errors.append(f"session {index}: {result.error_message or result.stdout!r}")

        await asyncio.gather(*(two_commands(i, s) for i, s in enumerate(made)))
        deleted = await asyncio.gather(*(s.delete() for s in made))
        errors += [d.error_message for d in deleted if not d.success]
        took = time.perf_counter() - started
    serial = sessions * 2 * 0.2
    verdict = "ok" if not errors else "MISSED"
    print(f"{sessions} concurrent sessions x 2 concurrent commands (sleep 0.2 s each): "
          f"{took:.2f} s vs {serial:.0f} s run one by one ({serial / took:.0f}x), "
          f"{len(errors)} errors (goal 0: {verdict})")
    for error in errors[:5]:
        print("  error:", error)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke test)")
    args = parser.parse_args()
    runs, seconds, sessions = (50, 0.5, 20) if args.quick else (500, 3.0, 100)
    with tempfile.TemporaryDirectory() as root:
        emulator = Emulator(api_keys=[KEY], root=root)
        with EmulatorServer(emulator) as server:
            print(f"local backend {server.url}, isolation: {emulator.isolation}")
            command_overhead(emulator, server.url, runs)
        emulator.close()
    # The server in its own process, as `python -m pytest_agentbay.emulator` runs: the clients
    # here then do not share an interpreter lock with it.
    cli = subprocess.Popen(
        [sys.executable, "-m", "pytest_agentbay.emulator"],
        stdout=subprocess.PIPE, text=True, env=dict(os.environ, AGENTBAY_EMULATOR_API_KEY=KEY),
    )
    try:
        assert cli.stdout is not None
        words = cli.stdout.readline().split()
        url = words[words.index("on") + 1]
        call_rate(url, seconds)
        asyncio.run(concurrent_sessions(url, sessions))
    finally:
        cli.terminate()
        cli.wait(10)


if __name__ == "__main__":
    main()
