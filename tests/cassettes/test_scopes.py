"""Traffic of class-, module- and run-scoped fixtures is recorded in its scope's cassette and
replayed for every test that uses the fixture, whichever of them runs first (or alone)."""

from __future__ import annotations

from .conftest import Live, Project

SCOPED = """
import pytest

@pytest.fixture(scope="module")
def workspace(agentbay_module_session):
    agentbay_module_session.command.execute_command("mkdir -p ~/p && echo 1 > ~/p/v")
    return agentbay_module_session

def test_one(workspace):
    assert workspace.command.execute_command("cat ~/p/v").stdout == "1\\n"

def test_two(workspace):
    assert workspace.command.execute_command("cat ~/p/v; echo 2").stdout == "1\\n2\\n"

class TestClass:
    def test_a(self, agentbay_class_session, agentbay_shared_session):
        agentbay_shared_session.command.execute_command("echo shared > ~/s")
        assert agentbay_class_session.command.execute_command("echo a").stdout == "a\\n"

    def test_b(self, agentbay_class_session):
        assert agentbay_class_session.command.execute_command("echo b").stdout == "b\\n"
"""
OTHER = """
def test_other(agentbay_shared_session):
    assert agentbay_shared_session.command.execute_command("cat ~/s").stdout == "shared\\n"
"""


def test_wider_scopes_have_their_own_cassettes(project: Project, live: Live) -> None:
    project.pytester.makepyfile(test_scoped=SCOPED, test_zother=OTHER)
    project.record("once").assert_outcomes(passed=5)
    assert live.calls("CreateMcpSession") == 3  # module, class, run: nothing per test
    files = project.cassettes()
    assert set(files) == {
        "__session__.yaml",
        "test_scoped/__module__.yaml",
        "test_scoped/TestClass.__class__.yaml",
        "test_scoped/test_one.agentbay.yaml",
        "test_scoped/test_two.agentbay.yaml",
        "test_scoped/TestClass.test_a.agentbay.yaml",
        "test_scoped/TestClass.test_b.agentbay.yaml",
        "test_zother/test_other.agentbay.yaml",
    }
    module = files["test_scoped/__module__.yaml"]
    assert "CreateMcpSession" in module and "mkdir" in module and "DeleteSessionAsync" in module
    for name in ("__session__.yaml", "test_scoped/TestClass.__class__.yaml"):
        assert "CreateMcpSession" in files[name] and "DeleteSessionAsync" in files[name]
    tests = [text for name, text in files.items() if "__" not in name]
    assert not any("CreateMcpSession" in text or "DeleteSession" in text for text in tests)

    project.replay("test_scoped.py::test_two", offline=False).assert_outcomes(passed=1)
    project.replay("test_zother.py", offline=False).assert_outcomes(passed=1)
    project.replay("test_scoped.py::TestClass::test_b", offline=False).assert_outcomes(passed=1)
    project.replay().assert_outcomes(passed=5)
