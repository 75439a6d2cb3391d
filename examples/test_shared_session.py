"""One session for a whole module: set it up once, use it in every test."""

import pytest


@pytest.fixture(scope="module")
def project(agentbay_module_session):
    """Lay out a small project in the module's session, once."""
    agentbay_module_session.command.execute_command(
        "mkdir -p ~/proj && printf 'def add(a, b):\\n    return a + b\\n' > ~/proj/calc.py"
    )
    return agentbay_module_session


def test_file_is_there(project):
    assert project.command.execute_command("test -f ~/proj/calc.py").success


def test_python_runs_it(project):
    result = project.command.execute_command(
        "python3 -c 'import calc; print(calc.add(2, 3))'", cwd="proj"
    )
    assert result.stdout.strip() == "5"
