"""Several sessions in one test: the factory deletes them all when the test ends."""


def test_isolated_sessions(agentbay_session_factory):
    first = agentbay_session_factory(labels={"role": "writer"})
    second = agentbay_session_factory(image="code_latest", labels={"role": "reader"})
    first.command.execute_command("echo secret > ~/only-here")
    assert not second.command.execute_command("test -e ~/only-here").success
    assert second.image_id == "code_latest"
