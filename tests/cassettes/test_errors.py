"""Clear errors: a request with no recorded reply, polling order and its end, a corrupt
cassette, and a cassette refused because it would hold a secret."""

from __future__ import annotations

import base64

import pytest

from .conftest import KEY, Live, Project

ECHO = """
def test_echo(agentbay_session):
    assert agentbay_session.command.execute_command("echo {word}").stdout == "{word}\\n"
"""


def recorded_then_changed(project: Project, recorded: str, changed: str) -> pytest.RunResult:
    """Record the test module `recorded`, change it to `changed`, and replay it."""
    project.pytester.makepyfile(test_it=recorded)
    project.record("once").assert_outcomes(passed=1)
    project.pytester.makepyfile(test_it=changed)
    result = project.replay(offline=False)
    result.assert_outcomes(failed=1)
    return result


def test_no_match_names_the_cassette_the_request_and_the_closest_one(
    project: Project, live: Live
) -> None:
    result = recorded_then_changed(project, ECHO.format(word="hi"), ECHO.format(word="bye"))
    result.stdout.fnmatch_lines(
        [
            "test_it.py:2: cassette cassettes/test_it/test_echo.agentbay.yaml has no recorded"
            " reply for",
            '    CallMcpTool SessionId=session-* Name=shell Args={"command": "echo bye", *',
            "  closest recorded request (differs in Args):",
            '    CallMcpTool SessionId=session-* Name=shell Args={"command": "echo hi", *',
            "  if the test changed, re-record it with `pytest --agentbay"
            " --agentbay-record-mode=rewrite`;",
            "  if the request differs on every run (a fresh id or name), re-recording will not"
            " help: declare that part volatile (`agentbay_volatile = REGEX` in the ini file, or"
            " `agentbay_cassette.volatile(REGEX)` in the test)",
        ]
    )


POLLS = """
def test_polls(agentbay_client, agentbay_session):
    assert agentbay_client.pause_async(agentbay_session).success
    statuses = [agentbay_client.get_session(agentbay_session.session_id).data.status
                for _ in range({times})]
    assert statuses == {expected}
"""


def test_repeated_requests_replay_in_recorded_order_then_run_out(
    project: Project, live: Live
) -> None:
    expected = ["PAUSING", "PAUSED", "PAUSED"]
    project.pytester.makepyfile(test_it=POLLS.format(times=3, expected=expected))
    project.record("once").assert_outcomes(passed=1)
    project.replay(offline=False).assert_outcomes(passed=1)  # PAUSING first, as recorded

    project.pytester.makepyfile(test_it=POLLS.format(times=4, expected=[*expected, "PAUSED"]))
    result = project.replay(offline=False)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*cassette cassettes/test_it/test_polls.agentbay.yaml has no recorded reply for",
            "    GetSession SessionId=session-*",
            "  all 3 recorded replies to it were already played: it was sent more often than*",
        ]
    )


SDK = """
from agentbay import AgentBay, Config

def test_sdk(agentbay_endpoint):
    where = Config(endpoint=agentbay_endpoint.endpoint)
    sdk = AgentBay(api_key=agentbay_endpoint.api_key, cfg=where)
    session = sdk.create().session
    session.command.execute_command("{command}")  # the SDK turns errors into results: unchecked
    sdk.delete(session)
"""


def test_a_miss_the_code_under_test_swallows_still_fails_the_test(
    project: Project, live: Live
) -> None:
    recorded, changed = SDK.format(command="echo recorded"), SDK.format(command="echo other")
    result = recorded_then_changed(project, recorded, changed)
    result.stdout.fnmatch_lines(
        [
            "*cassette cassettes/test_it/test_sdk.agentbay.yaml has no recorded reply for",
            "*echo other*",
        ]
    )


def test_a_corrupt_or_malformed_cassette_is_an_error_naming_the_file(
    project: Project, live: Live
) -> None:
    project.pytester.makepyfile(test_it=ECHO.format(word="hi"))
    project.record("once").assert_outcomes(passed=1)
    cassette = project.root / "cassettes/test_it/test_echo.agentbay.yaml"
    cassette.write_text("interactions: [\n  - request: {method: POST\n")
    result = project.replay(offline=False)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*cassette cassettes/test_it/test_echo.agentbay.yaml is not valid YAML (line *): fix it*"]
    )
    cassette.write_text("interactions:\n- request: {method: POST}\n")
    result = project.replay(offline=False)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*cassette cassettes/test_it/test_echo.agentbay.yaml, interaction 1: it lacks request*"]
    )
    project.record("rewrite").assert_outcomes(passed=1)  # rewriting repairs it
    project.replay(offline=False).assert_outcomes(passed=1)


def test_a_secret_the_scrubbing_misses_stops_the_write(project: Project, live: Live) -> None:
    encoded = base64.b64encode(KEY.encode()).decode()
    project.pytester.makepyfile(
        test_it=ECHO.format(word="hi") + ECHO.format(word=encoded).replace("test_echo", "test_leak")
    )
    result = project.record("once")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_leak*",
            "refused to write cassette cassettes/test_it/test_leak.agentbay.yaml: interaction 2 "
            "(request.body) holds secret #1 (cass*** (25 chars)), base64-encoded. Nothing was "
            "written.*",
        ]
    )
    assert set(project.cassettes()) == {"test_it/test_echo.agentbay.yaml"}
    assert not list(project.root.rglob("*.tmp"))
