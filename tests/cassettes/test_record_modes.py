"""Each record mode, with pytest-recording's meanings, in live runs."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from .conftest import Live, Project

TEST = """
def test_a(agentbay_client, agentbay_session):
    assert agentbay_session.command.execute_command("echo a").stdout == "a\\n"
    {extra}
"""
OLD = 'assert not agentbay_client.get_session("session-old").success'
NEW = 'assert not agentbay_client.get_session("session-new").success'
PATH = "test_it/test_a.agentbay.yaml"


def actions(project: Project) -> list[str]:
    """The actions recorded in the test's cassette, in order, with ListSession's labels."""
    document: dict[str, Any] = yaml.safe_load(project.cassettes()[PATH])
    out = []
    for interaction in document["interactions"]:
        request = interaction["request"]
        action = request["uri"].split("Action=")[1].split("&")[0]
        if action == "GetSession":
            action += " old" if "session-old" in request["body"] else " new"
        out.append(action)
    return out


def write(project: Project, extra: str = "") -> None:
    project.pytester.makepyfile(test_it=TEST.format(extra=extra))


def test_none_in_a_live_run_writes_nothing(project: Project, live: Live) -> None:
    write(project)
    project.record("none").assert_outcomes(passed=1)
    assert live.calls("CallMcpTool") == 1
    assert not (project.root / "cassettes").exists()


def test_once_records_a_missing_cassette_then_only_replays(project: Project, live: Live) -> None:
    write(project)
    project.record("once").assert_outcomes(passed=1)
    assert live.calls("CallMcpTool") == 1
    assert actions(project)[:2] == ["CreateMcpSession", "CallMcpTool"]
    before = project.cassettes()

    project.record("once").assert_outcomes(passed=1)
    assert live.calls("CreateMcpSession") == live.calls("CallMcpTool") == 1  # all replayed
    write(project, NEW)
    result = project.record("once")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*cassette cassettes/{PATH} has no recorded reply*"])
    assert live.calls("GetSession") == 0 and project.cassettes() == before


def test_new_episodes_adds_what_is_missing_and_replays_the_rest(
    project: Project, live: Live
) -> None:
    write(project)
    project.record("once").assert_outcomes(passed=1)
    write(project, NEW)
    project.record("new_episodes").assert_outcomes(passed=1)
    assert live.calls("GetSession") == 1 and live.calls("CallMcpTool") == 1
    assert actions(project)[-1] == "GetSession new"
    project.replay(offline=False).assert_outcomes(passed=1)


@pytest.mark.parametrize(("mode", "kept"), [("all", True), ("rewrite", False)])
def test_all_and_rewrite_record_everything_again(
    project: Project, live: Live, mode: str, kept: bool
) -> None:
    write(project, OLD)
    project.record("once").assert_outcomes(passed=1)
    write(project)
    project.record(mode).assert_outcomes(passed=1)
    assert live.calls("CallMcpTool") == 2  # nothing replayed
    recorded = actions(project)
    assert recorded.count("CallMcpTool") == 1  # the new recording replaced the old
    assert ("GetSession old" in recorded) is kept
    project.replay(offline=False).assert_outcomes(passed=1)
