"""Replay: without --agentbay a test with a cassette replays it with no key, no network and no
real waits; a test without one is skipped with the command that records it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Live, Project

# Real waits are counted, not timed (a timing fails under load): an autouse fixture of the
# inner test module wraps the real `time.sleep` and `asyncio.sleep` and writes the seconds
# they were asked to wait; a replay that really waited shows there, however fast the machine.
REAL_SLEEPS = """
import asyncio, json, os, time
import pytest

@pytest.fixture(autouse=True)
def real_sleeps(monkeypatch, request):
    slept = []
    real_sleep, real_asleep = time.sleep, asyncio.sleep

    def sleep(seconds):
        slept.append(seconds)
        real_sleep(seconds)

    async def asleep(seconds, result=None):
        if seconds > 0:
            slept.append(seconds)
        return await real_asleep(seconds, result)

    monkeypatch.setattr(time, "sleep", sleep)
    monkeypatch.setattr(asyncio, "sleep", asleep)
    yield
    if os.environ.get("SLEEPS"):  # (other tests reuse these modules without counting)
        with open(os.environ["SLEEPS"], "a") as log:
            log.write(json.dumps([request.node.name, sum(slept)]) + "\\n")
"""


def real_sleeps(log: Path) -> dict[str, float]:
    """Seconds each inner test asked the real sleeps for (its last run), then clear the log."""
    found = dict(json.loads(line) for line in log.read_text().splitlines())
    log.unlink()
    return found


PAUSE_RESUME = REAL_SLEEPS + """
def test_pause_resume(agentbay_client, agentbay_session):
    agentbay_session.command.execute_command("echo before > ~/state")
    assert agentbay_client.pause(agentbay_session, poll_interval=1).status == "PAUSED"
    assert agentbay_client.resume(agentbay_session, poll_interval=1).status == "RUNNING"
    clock = agentbay_client._driver.clock
    with open(os.environ["REPORT"], "w") as report:
        json.dump({"clock": type(clock).__name__, "slept": getattr(clock, "slept", None)},
                  report)
    assert agentbay_session.command.execute_command("cat ~/state").stdout == "before\\n"

def test_not_recorded_here():
    pass
"""


def test_replays_offline_with_no_key_and_no_real_waits(
    project: Project, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    report, sleeps = project.root / "report.json", project.root / "sleeps.log"
    monkeypatch.setenv("REPORT", str(report))
    monkeypatch.setenv("SLEEPS", str(sleeps))
    project.pytester.makepyfile(test_it=PAUSE_RESUME)
    project.record("once").assert_outcomes(passed=2)
    recorded = json.loads(report.read_text())
    assert recorded["clock"] == "SystemClock"
    assert real_sleeps(sleeps)["test_pause_resume"] >= 2  # it polled live

    result = project.replay("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["agentbay: backend: replay (cassettes in cassettes; no key*"])
    replayed = json.loads(report.read_text())
    assert replayed["clock"] == "VirtualClock" and replayed["slept"] >= 2
    assert real_sleeps(sleeps) == {"test_pause_resume": 0, "test_not_recorded_here": 0}


def test_without_a_cassette_a_test_is_skipped_with_the_command_that_records_it(
    project: Project, live: Live
) -> None:
    project.pytester.makepyfile(
        test_it="def test_one(agentbay_session):\n    pass\n"
        "def test_two(agentbay_session):\n    pass\n"
    )
    project.record("once", "-k", "test_one").assert_outcomes(passed=1, deselected=1)
    result = project.replay("-rs", offline=False)
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED*no cassette cassettes/test_it/test_two.agentbay.yaml: record it with "
            "`pytest --agentbay --agentbay-record-mode=once test_it.py::test_two`"
        ]
    )
    required = project.replay("--agentbay-require-cassettes", offline=False)
    required.assert_outcomes(passed=1, errors=1)
    required.stdout.fnmatch_lines(["*no cassette cassettes/test_it/test_two.agentbay.yaml*"])


def test_without_a_cassette_directory_nothing_changes(project: Project) -> None:
    project.pytester.makepyfile(test_it="def test_one(agentbay_session):\n    pass\n")
    result = project.replay("-rs", offline=False)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        ["agentbay: off*", "*needs AgentBay: run with `pytest --agentbay`*"]
    )


def test_record_mode_without_agentbay_is_a_usage_error(project: Project) -> None:
    project.pytester.makepyfile(test_it="def test_one(agentbay_session):\n    pass\n")
    result = project.pytester.runpytest("--agentbay-record-mode=once")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--agentbay-record-mode=once records live traffic: add --agentbay*"]
    )


SDK = REAL_SLEEPS + """
from agentbay import AgentBay, AsyncAgentBay, Config

def test_sdk_sync(agentbay_endpoint):
    where = Config(endpoint=agentbay_endpoint.endpoint)
    sdk = AgentBay(api_key=agentbay_endpoint.api_key, cfg=where)
    session = sdk.create().session
    assert session.command.execute_command("echo sync").output == "sync\\n"
    assert sdk.delete(session).success

def test_sdk_async(agentbay_endpoint):
    async def main():
        sdk = AsyncAgentBay(
            api_key=agentbay_endpoint.api_key, cfg=Config(endpoint=agentbay_endpoint.endpoint)
        )
        session = (await sdk.create()).session
        result = await session.command.execute_command("echo async")
        assert result.output == "async\\n"
        assert (await sdk.delete(session)).success
    asyncio.run(main())
"""


def test_the_official_sdk_is_recorded_and_replayed(
    project: Project, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps = project.root / "sleeps.log"
    monkeypatch.setenv("SLEEPS", str(sleeps))
    project.pytester.makepyfile(test_sdk=SDK)
    live.emulator.set_latency("DeleteSessionAsync", 0.001)  # DELETING shows: the SDK polls
    project.record("once").assert_outcomes(passed=2)
    live_sleeps = real_sleeps(sleeps)  # the SDK's delete polls every second
    assert live_sleeps["test_sdk_sync"] >= 1 and live_sleeps["test_sdk_async"] >= 1
    assert live.calls("CallMcpTool") == 2
    files = project.cassettes()
    assert set(files) == {
        "test_sdk/test_sdk_sync.agentbay.yaml",
        "test_sdk/test_sdk_async.agentbay.yaml",
    }
    assert all("Action=DeleteSessionAsync" in text for text in files.values())

    project.replay().assert_outcomes(passed=2)
    # The same polls, replayed: the waits pass on the virtual clock, none on the real one.
    assert real_sleeps(sleeps) == {"test_sdk_sync": 0, "test_sdk_async": 0}
