"""Code under test that builds its own client reaches the run's backend."""

from pytest_agentbay import AgentBay, Config


def count_python_files(directory: str) -> int:
    """The code under test: it makes its own client from the environment."""
    with AgentBay() as agent_bay:
        session = agent_bay.create().session
        try:
            listing = session.command.execute_command(f"ls {directory} | grep -c '\\.py$' || true")
            return int(listing.stdout.strip() or 0)
        finally:
            session.delete()


def test_uses_the_same_backend(agentbay_endpoint):
    assert count_python_files("/") == 0
    with AgentBay(agentbay_endpoint.api_key, Config(agentbay_endpoint.endpoint)) as mine:
        assert mine.list().success
