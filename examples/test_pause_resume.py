"""Pause a session and resume it; what was there before is still there after."""


def test_pause_and_resume(agentbay_client, agentbay_session):
    agentbay_session.command.execute_command("echo before > ~/state")
    paused = agentbay_client.pause(agentbay_session, poll_interval=0.2)
    assert paused.success and paused.status == "PAUSED"
    resumed = agentbay_client.resume(agentbay_session, poll_interval=0.2)
    assert resumed.success and resumed.status == "RUNNING"
    assert agentbay_session.command.execute_command("cat ~/state").stdout == "before\n"
