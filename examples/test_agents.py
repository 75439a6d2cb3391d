"""Natural-language agent tasks on the computer and in the browser."""

import pytest


def test_computer_task_runs_to_the_end(agentbay_session):
    result = agentbay_session.agent.computer.execute_task_and_wait(
        "Open the terminal and print the date", max_try_times=20
    )
    assert result.success, result.error_message
    assert result.task_status == "finished"
    assert result.task_result


@pytest.mark.agentbay(image="browser_latest")  # the browser agent lives on browser images
def test_browser_task_can_be_stopped(agentbay_session):
    browser = agentbay_session.agent.browser
    assert browser.initialize().success
    started = browser.execute_task("Find the weather in Shanghai")
    assert started.success and started.task_id
    assert browser.terminate_task(started.task_id).success
