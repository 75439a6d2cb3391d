"""Replay: without --agentbay a test with a cassette replays it with no key, no network and no
real waits; a test without one is skipped with the command that records it."""

from __future__ import annotations

import json

import pytest

from .conftest import Live, Project

PAUSE_RESUME = """
import json, os, time

def test_pause_resume(agentbay_client, agentbay_session):
    agentbay_session.command.execute_command("echo before > ~/state")
    started = time.monotonic()
    assert agentbay_client.pause(agentbay_session, poll_interval=1).status == "PAUSED"
    assert agentbay_client.resume(agentbay_session, poll_interval=1).status == "RUNNING"
    clock = agentbay_client._driver.clock
    with open(os.environ["REPORT"], "w") as report:
        json.dump({"elapsed": time.monotonic() - started, "clock": type(clock).__name__,
                   "slept": getattr(clock, "slept", None)}, report)
    assert agentbay_session.command.execute_command("cat ~/state").stdout == "before\\n"

def test_not_recorded_here():
    pass
"""


def test_replays_offline_with_no_key_and_no_real_waits(
    project: Project, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = project.root / "report.json"
    monkeypatch.setenv("REPORT", str(report))
    project.pytester.makepyfile(test_it=PAUSE_RESUME)
    project.record("once").assert_outcomes(passed=2)
    recorded = json.loads(report.read_text())
    assert recorded["clock"] == "SystemClock" and recorded["elapsed"] >= 2  # it polled live

    result = project.replay("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["agentbay: backend: replay (cassettes in cassettes; no key*"])
    replayed = json.loads(report.read_text())
    assert replayed["clock"] == "VirtualClock" and replayed["slept"] >= 2
    assert replayed["elapsed"] < 0.5  # the same polls, none of the waiting


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


SDK = """
import asyncio
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


def test_the_official_sdk_is_recorded_and_replayed(project: Project, live: Live) -> None:
    project.pytester.makepyfile(test_sdk=SDK)
    project.record("once").assert_outcomes(passed=2)
    assert live.calls("CallMcpTool") == 2
    files = project.cassettes()
    assert set(files) == {
        "test_sdk/test_sdk_sync.agentbay.yaml",
        "test_sdk/test_sdk_async.agentbay.yaml",
    }
    assert all("Action=DeleteSessionAsync" in text for text in files.values())

    result = project.replay("--durations=0", "-vv")
    result.assert_outcomes(passed=2)
    # The SDK's delete polls every second: in replay the wait is virtual.
    durations = [float(line.split("s")[0]) for line in result.outlines if " call " in line]
    assert durations and max(durations) < 0.9, result.outlines
