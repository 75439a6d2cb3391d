"""Cassette benchmark: replay cost per request as a cassette grows (ours beside plain vcrpy),
and a pause/resume/delete test replayed beside the same test run live.

Run: python benchmarks/cassette_bench.py [--quick]
Every figure is measured in this run; nothing needs a key or the network (the live runs use
the local backend).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr

from pytest_agentbay import AgentBay, Config, VirtualClock
from pytest_agentbay.cassette.deck import Deck
from pytest_agentbay.cassette.keys import match_key, request_params
from pytest_agentbay.cassette.scrub import ENDPOINT, Scrubber
from pytest_agentbay.cassette.seam import DeckTransport
from pytest_agentbay.cassette.tape import Tape
from pytest_agentbay.emulator import Emulator, EmulatorServer
from pytest_agentbay.plugin.cassettes import install

KEY = "bench-key"
PAUSE_RESUME_DELETE = """
def test_pause_resume_delete(agentbay_client):
    session = agentbay_client.create().session
    assert agentbay_client.pause(session).success
    assert agentbay_client.resume(session).success
    assert agentbay_client.delete(session).success
"""


def record(path: Path, commands: int, root: Path) -> None:
    """A real cassette: a session, `commands` distinct shell commands, its deletion."""
    emulator = Emulator(api_keys=[KEY], root=root)
    with EmulatorServer(emulator) as server:
        tape = Tape(path, path.name, path.name, "rewrite")
        deck = Deck(Scrubber([KEY]))
        deck.enter(tape)
        with install(deck), AgentBay(KEY, Config(server.url)) as client:
            session = client.create().session
            assert session is not None
            for n in range(commands):
                assert session.command.execute_command(f"echo {n}").success
            session.delete()
        tape.save([KEY])


def replay_ours(
    path: Path, commands: int, rounds: int = 3, seam: bool = False
) -> tuple[float, float]:
    """Milliseconds per replayed command (best of `rounds`): through our client (answered by
    vcrpy's patches, or at the transport seam as replayed tests are), and the cassette lookup
    alone."""
    per_request, session_id = float("inf"), ""
    for _ in range(rounds):
        deck = Deck(Scrubber(["replay-key"]))
        deck.enter(Tape(path, path.name, path.name, "none"))
        transport = DeckTransport(deck) if seam else None
        with install(deck), AgentBay(
            "replay-key", Config(ENDPOINT), clock=VirtualClock(), transport=transport
        ) as ab:
            session = ab.create().session
            assert session is not None
            started = time.perf_counter()
            for n in range(commands):
                assert session.command.execute_command(f"echo {n}").stdout == f"{n}\n"
            took = (time.perf_counter() - started) / commands * 1000
            session_id = session.session_id
        per_request = min(per_request, took)
    deck = Deck(Scrubber(["replay-key"]))
    deck.enter(Tape(path, path.name, path.name, "none"))
    query = f"{ENDPOINT}/?Action=CallMcpTool&Format=json&Version=2025-05-06&Timestamp=t"
    bodies = [
        f"Args=%7B%22command%22%3A+%22echo+{n}%22%2C+%22timeout_ms%22%3A+50000%7D"
        "&Authorization=Bearer+replay-key&AutoGenSession=False&Name=shell&Server="
        f"&SessionId={session_id}"
        for n in range(commands)
    ]
    started = time.perf_counter()
    for body in bodies:
        route = deck.route("POST", query, body)
        assert route is not None and deck.play(route) is not None
    return per_request, (time.perf_counter() - started) / commands * 1000


def client_alone(commands: int) -> float:
    """Milliseconds per command of our client with no cassette: an in-memory transport."""
    reply = {"content": [{"type": "text", "text": '{"stdout": "x", "exit_code": 0}'}]}
    body = {"RequestId": "r", "Success": True, "Code": "ok", "Data": reply}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    with AgentBay(KEY, Config(ENDPOINT), transport=transport) as client:
        session = client.session("session-x")
        started = time.perf_counter()
        for n in range(commands):
            session.command.execute_command(f"echo {n}")
        return (time.perf_counter() - started) / commands * 1000


def _key(request: Any) -> Any:
    params = request_params(request.method, request.uri, request.body) or {}
    return match_key(params)


def _cached_key(request: Any) -> Any:
    if "_key" not in request.__dict__:
        request.__dict__["_key"] = _key(request)
    return request.__dict__["_key"]


def _same_call(live: Any, recorded: Any) -> bool:
    """The matcher a plain vcrpy user registers: our comparison, parsing both requests."""
    return bool(_key(live) == _key(recorded))


def _same_call_cached(live: Any, recorded: Any) -> bool:
    """The same with each request parsed once: what is left is vcrpy's scan itself."""
    return bool(_cached_key(live) == _cached_key(recorded))


def replay_plain_vcrpy(path: Path, commands: int, samples: int, matcher: Any) -> float:
    """Milliseconds per replayed command with vcrpy's own (linear) matching, over commands
    spread evenly through the cassette."""
    recorder = vcr.VCR(record_mode="none", match_on=["agentbay"])
    recorder.register_matcher("agentbay", matcher)
    step = max(1, commands // samples)
    picked = range(0, commands, step)
    with recorder.use_cassette(str(path)):
        client = AgentBay("replay-key", Config(ENDPOINT), clock=VirtualClock())
        session = client.create().session
        assert session is not None
        started = time.perf_counter()
        for n in picked:
            assert session.command.execute_command(f"echo {n}").stdout == f"{n}\n"
        took = time.perf_counter() - started
        client.close()
    return took / len(picked) * 1000


class Durations:
    """Collects how long each test took: setup, call and teardown."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds += report.duration
        assert report.passed, report.longrepr


def pause_resume_delete(directory: Path) -> tuple[float, float]:
    """Seconds the test takes live (recording it) and replayed."""
    directory.mkdir()
    (directory / "test_bench.py").write_text(PAUSE_RESUME_DELETE)
    common = ["-p", "no:terminal", "-p", "no:cacheprovider", "-W", "ignore"]
    common += [f"--rootdir={directory}"]
    common += [f"--agentbay-cassette-dir={directory / 'cassettes'}", str(directory)]
    figures = []
    for extra in (["--agentbay", "--agentbay-record-mode=rewrite"], []):
        durations = Durations()
        code = pytest.main([*extra, *common], plugins=[durations])
        assert code == 0, code
        figures.append(durations.seconds)
    return figures[0], figures[1]


def bench_replay(root: Path, big: int, small: int, samples: int) -> None:
    """Per-request replay cost at two cassette sizes, ours and plain vcrpy's."""
    for size in (small, big):
        record(root / f"c{size}.yaml", size, root / "sandboxes")
    print("replay cost per request (our client over httpx, vcrpy's patches in place):")
    for size in (small, big):
        ours, lookup = replay_ours(root / f"c{size}.yaml", size)
        print(
            f"  ours,        {size:5,} interactions: {ours:7.3f} ms "
            f"(of which the cassette lookup {lookup:.3f} ms)"
        )
    seam = replay_ours(root / f"c{big}.yaml", big, seam=True)[0]
    print(f"  ours at the transport seam (as replayed tests run), {big:,}: {seam:.3f} ms")
    print(f"  (our client alone, in-memory transport, no cassette: {client_alone(big):.3f} ms)")
    plain = replay_plain_vcrpy(root / f"c{big}.yaml", big, max(1, samples // 5), _same_call)
    scan = replay_plain_vcrpy(root / f"c{big}.yaml", big, samples, _same_call_cached)
    print(f"  plain vcrpy, {big:5,} interactions: {plain:7.3f} ms (matcher parsing each pair)")
    print(f"  plain vcrpy, {big:5,} interactions: {scan:7.3f} ms (requests parsed once: the scan)")
    verdict = ("ok" if ours <= 0.5 else "MISSED") if big >= 2000 else "not checked when quick"
    print(
        f"  ours at {big:,}: {ours:.3f} ms (goal 0.5 ms: {verdict}); plain vcrpy takes "
        f"{plain / ours:.0f}x as long ({scan / ours:.0f}x with requests parsed once)"
    )


def bench_test(root: Path) -> None:
    """A pause/resume/delete test, live beside replayed."""
    live, replayed = pause_resume_delete(root / "suite")
    verdict = "ok" if live / replayed >= 100 else "MISSED"
    print(
        f"pause/resume/delete test: live {live:.3f} s, replayed {replayed:.4f} s = "
        f"{live / replayed:.0f}x faster (goal 100x: {verdict})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller cassettes (smoke test)")
    quick = parser.parse_args().quick
    os.environ.pop("AGENTBAY_API_KEY", None)  # the live test runs on the local backend
    with tempfile.TemporaryDirectory(prefix="cassette-bench-") as tmp:
        bench_replay(Path(tmp), *((200, 20, 20) if quick else (2000, 200, 100)))
        bench_test(Path(tmp))


if __name__ == "__main__":
    main()
