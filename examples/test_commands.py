"""Run shell commands in a fresh session per test (`agentbay_session`)."""

import pytest


def test_echo(agentbay_session):
    result = agentbay_session.command.execute_command("echo hello")
    assert result.success
    assert result.output == "hello\n"


def test_exit_code_and_stderr(agentbay_session):
    result = agentbay_session.command.execute_command("echo oops >&2; exit 3")
    assert not result.success
    assert result.exit_code == 3
    assert "oops" in result.stderr


def test_cwd_and_envs_are_process_parameters(agentbay_session):
    agentbay_session.command.execute_command("mkdir -p '/tmp/my dir'")
    result = agentbay_session.command.execute_command(
        'pwd; printf "%s" "$GREETING"', cwd="/tmp/my dir", envs={"GREETING": "it's; \"quoted\""}
    )
    assert result.stdout == "/tmp/my dir\nit's; \"quoted\""


@pytest.mark.parametrize("seconds", [1])
def test_timeout(agentbay_session, seconds):
    command = agentbay_session.command
    result = command.execute_command(f"sleep {seconds + 5}", timeout_ms=seconds * 1000)
    assert not result.success
    assert result.output == ""
