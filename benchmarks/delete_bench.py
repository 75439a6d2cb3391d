"""Deletes on the local backend with no latency knob: milliseconds per `delete`, beside the
cost of one no-op call (GetSession) over the same loopback connection.

Run: python benchmarks/delete_bench.py [--sessions N]
A delete is DeleteSessionAsync, then status reads until the session is gone; the figure is the
median over N sessions deleted one after another.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from pytest_agentbay import AgentBay, Config
from pytest_agentbay.emulator import Emulator, EmulatorServer

KEY = "bench-delete-key"


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=40, help="sessions deleted")
    n = parser.parse_args().sessions
    with tempfile.TemporaryDirectory() as root:
        emulator = Emulator(api_keys=[KEY], root=root)
        with EmulatorServer(emulator) as server, AgentBay(KEY, Config(server.url)) as client:
            sessions = [client.create().session for _ in range(n)]
            calls, deletes = [], []
            for session in sessions:
                assert session is not None
                started = time.perf_counter()
                assert client.get_session(session.session_id).success
                calls.append(time.perf_counter() - started)
                started = time.perf_counter()
                assert client.delete(session).success
                deletes.append(time.perf_counter() - started)
        emulator.close()
    call, delete = median_ms(calls), median_ms(deletes)
    print(f"no-op GetSession over loopback: median {call:6.2f} ms (baseline)")
    print(f"delete, no latency knob:        median {delete:6.2f} ms = {delete / call:.1f}x the "
          f"no-op call (goal 5 ms: {'ok' if delete <= 5 else 'MISSED'}); "
          f"{1000 / delete:.0f} deletes/s one after another")


if __name__ == "__main__":
    main()
