"""Requests that differ on every run (a fresh uuid, a random name) still replay: values that
look random are matched loosely, in recorded order, and the report says so; other volatile
parts are declared in the ini file or through `agentbay_cassette.volatile(...)`."""

from __future__ import annotations

import pytest

from .conftest import INI, Live, Project

RANDOM = """
import uuid

def test_random(agentbay_session):
    for _ in range(2):
        name = f"job-{uuid.uuid4()}"
        result = agentbay_session.command.execute_command(f"mkdir /tmp/{name} && echo made")
        assert result.stdout == "made\\n"
"""


def test_random_looking_values_replay_in_order_and_the_report_says_so(
    project: Project, live: Live
) -> None:
    project.pytester.makepyfile(test_it=RANDOM)
    project.record("once").assert_outcomes(passed=1)
    result = project.replay("-rA", offline=False)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*agentbay cassette: replayed loosely*",
            "cassettes/test_it/test_random.agentbay.yaml: replayed CallMcpTool*mkdir /tmp/job-*"
            " they differ only in values that look random (a uuid), in Args",
            "agentbay cassettes: 2 request(s) replayed although they differ from the recording"
            " in values that look random*",
        ]
    )


DECLARED = """
import os
import re

def test_declared(agentbay_session, agentbay_cassette):
    if os.environ.get("HOW") == "fixture":  # a function: the value with the part blanked
        agentbay_cassette.volatile(lambda value: re.sub(r"run[0-9]+", "run", value))
    name = os.environ["NAME"]  # short and plain: it does not look random
    result = agentbay_session.command.execute_command(f"echo {name} > /tmp/x && echo ok")
    assert result.stdout == "ok\\n"
"""


@pytest.mark.parametrize("how", ["ini", "fixture"])
def test_declared_volatile_parts_replay_without_a_warning(
    project: Project, live: Live, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    project.pytester.makepyfile(test_it=DECLARED)
    if how == "ini":
        project.pytester.makeini(INI + "agentbay_volatile = run[0-9]+\n")
    monkeypatch.setenv("HOW", how)
    monkeypatch.setenv("NAME", "run17")
    project.record("once").assert_outcomes(passed=1)
    monkeypatch.setenv("NAME", "run42")
    result = project.replay("-rA", offline=False)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*they differ only in parts declared volatile, in Args"])
    assert "values that look random" not in result.stdout.str()

    project.pytester.makeini(INI)  # nothing declared: a plain miss that says what to do
    monkeypatch.setenv("HOW", "none")
    result = project.replay(offline=False)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*declare that part volatile (`agentbay_volatile = REGEX`*"])


def test_a_bad_volatile_pattern_is_a_usage_error(project: Project) -> None:
    project.pytester.makeini(INI + "agentbay_volatile = run[0-9\n")
    project.pytester.makepyfile(test_it="def test_one(agentbay_session):\n    pass\n")
    (project.root / "cassettes").mkdir()
    result = project.replay(offline=False)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*agentbay_volatile: volatile pattern 'run[0-9' is not a*"])
