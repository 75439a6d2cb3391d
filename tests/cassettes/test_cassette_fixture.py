"""The `agentbay_cassette` fixture: whether the test replays or records, which cassette, how
many interactions were played, and `assert_all_played()`."""

from __future__ import annotations

import json

import pytest

from .conftest import LIVE, Live, Project

COUNTED = """
import json, os

def test_counted(agentbay_session, agentbay_cassette):
    for i in range(int(os.environ["COUNT"])):
        assert agentbay_session.command.execute_command(f"echo {i}").stdout == f"{i}\\n"
    seen = {
        "mode": agentbay_cassette.mode,
        "replaying": agentbay_cassette.replaying,
        "recording": agentbay_cassette.recording,
        "path": agentbay_cassette.path and agentbay_cassette.path.name,
        "interactions": agentbay_cassette.interactions,
        "played": agentbay_cassette.played,
        "unplayed": agentbay_cassette.unplayed(),
    }
    with open(os.environ["REPORT"], "w") as report:
        json.dump(seen, report)
    agentbay_cassette.assert_all_played()
"""


def _seen(project: Project) -> dict[str, object]:
    return dict(json.loads((project.root / "report.json").read_text()))


def test_the_fixture_tells_mode_cassette_and_plays(
    project: Project, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPORT", str(project.root / "report.json"))
    monkeypatch.setenv("COUNT", "2")
    project.pytester.makepyfile(test_it=COUNTED)
    project.pytester.runpytest(*LIVE).assert_outcomes(passed=1)
    assert _seen(project)["mode"] == "off" and _seen(project)["path"] is None

    project.record("once").assert_outcomes(passed=1)
    recorded = _seen(project)
    assert recorded["mode"] == "record" and recorded["recording"] and not recorded["replaying"]
    assert recorded["path"] == "test_counted.agentbay.yaml" and recorded["interactions"] == 0

    project.replay(offline=False).assert_outcomes(passed=1)  # every interaction played
    replayed = _seen(project)
    assert replayed["mode"] == "replay" and replayed["replaying"] and not replayed["recording"]
    total = replayed["interactions"]
    assert isinstance(total, int) and total >= 4  # create, 2 commands, delete and its polls
    assert replayed["played"] == 3  # the create and 2 commands; the delete comes at teardown
    assert "DeleteSessionAsync" in str(replayed["unplayed"]) and "echo" not in str(replayed)

    monkeypatch.setenv("COUNT", "1")  # one recorded command is not sent again
    result = project.replay(offline=False)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*1 of * recorded interactions in cassettes/test_it/test_counted.agentbay.yaml were"
            " not played back (agentbay_cassette.assert_all_played()):",
            '*CallMcpTool SessionId=session-* Name=shell Args={"command": "echo 1"*',
        ]
    )
