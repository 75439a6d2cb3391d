"""Session expiry's cost per request: API calls on an emulator whose sessions expire, and not.

Run: python benchmarks/expiry_bench.py [--quick]
Baseline (same run): GetSession answered by an emulator whose sessions have no
idle_release_timeout. Measured: the same calls when every session has one (a deadline heap of
that many entries) and the server's sweep runs beside them; and the expiry bookkeeping alone
(`Store.admit` + `Store.done`, what every call naming a session does), beside the whole call.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

from pytest_agentbay.emulator import Emulator
from pytest_agentbay.emulator.expiry import Sweeper

KEY = "bench-key"
AUTH = f"Bearer {KEY}"
ROUNDS = 7


def _unused_sandbox(root: Path, name: str, isolation: str) -> object:
    raise AssertionError("no command runs in this benchmark")


def _emulator(root: str, sessions: int, timeout: str | None) -> tuple[Emulator, list[str]]:
    emulator = Emulator(api_keys=[KEY], root=root, sandbox_factory=_unused_sandbox)  # type: ignore[arg-type]
    extra = {"Timeout": timeout} if timeout else {}
    ids = []
    for _ in range(sessions):
        reply = emulator.handle({"Action": "CreateMcpSession", "Authorization": AUTH, **extra})
        ids.append(reply.body["Data"]["SessionId"])
    return emulator, ids


def _median_us(fn: Callable[[int], object], runs: int) -> float:
    for i in range(min(200, runs)):
        fn(i)
    samples = []
    for i in range(runs):
        started = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6


def _calls(emulator: Emulator, ids: list[str], runs: int) -> float:
    def call(i: int) -> object:
        params = {"Action": "GetSession", "Authorization": AUTH, "SessionId": ids[i % len(ids)]}
        return emulator.handle(params)

    return _median_us(call, runs)


def _rounds(first: Callable[[], float], second: Callable[[], float]) -> tuple[float, float]:
    """Medians of alternating rounds, so load from other jobs falls on both alike."""
    a, b = [], []
    for _ in range(ROUNDS):
        a.append(first())
        b.append(second())
    return statistics.median(a), statistics.median(b)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sessions, runs = (100, 500) if args.quick else (1000, 5000)
    with TemporaryDirectory() as root:
        plain, plain_ids = _emulator(root, sessions, None)
        expiring, expiring_ids = _emulator(root, sessions, "1800")
        sweeper = Sweeper(expiring.release_expired, "bench-sweep").start()
        try:
            base, with_expiry = _rounds(lambda: _calls(plain, plain_ids, runs),
                                        lambda: _calls(expiring, expiring_ids, runs))
            store, record = expiring.store, expiring.store.sessions[expiring_ids[0]]

            def admit(i: int) -> None:
                store.admit("GetSession", ("GetSession",), KEY, record.session_id)

            def done(i: int) -> None:
                store.done(record)

            admitted, ended = _rounds(lambda: _median_us(admit, runs),
                                      lambda: _median_us(done, runs))
        finally:
            sweeper.stop()
            plain.close()
            expiring.close()
    print(f"GetSession, {sessions} sessions without expiry: median {base:6.1f} us (baseline)")
    print(f"GetSession, {sessions} sessions expiring, sweep running: median {with_expiry:6.1f} us"
          f" = {with_expiry / base:4.2f}x the baseline")
    print(f"Store.admit (counts the call, as before; now also the expiry check and the busy "
          f"mark): {admitted:4.1f} us = {admitted / base:4.1%} of the baseline call")
    print(f"Store.done (new: the call's end is activity): {ended:4.1f} us"
          f" = {ended / base:4.1%} of the baseline call")


if __name__ == "__main__":
    main()
