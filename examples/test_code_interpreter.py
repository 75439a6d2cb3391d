"""A code interpreter: run Python and JavaScript in a `code_latest` session."""

import pytest

pytestmark = pytest.mark.agentbay(image="code_latest")  # run_code lives on code images


def test_python_result_and_output(agentbay_session):
    result = agentbay_session.code.run_code(
        "import statistics\nprint('computing')\nstatistics.mean([1, 2, 3, 4])", "python"
    )
    assert result.success, result.error_message
    assert result.result == "2.5"
    assert result.logs.stdout == ["computing\n"]


def test_python_error_details(agentbay_session):
    result = agentbay_session.code.run_code("total = 10\ntotal / 0", "python")
    assert not result.success
    assert result.error.name == "ZeroDivisionError"
    assert "division by zero" in result.error.value
    assert "total / 0" in result.error.traceback


def test_javascript(agentbay_session):
    code = "console.log('sum:', [1, 2, 3].reduce((a, b) => a + b))"
    result = agentbay_session.code.run_code(code, "javascript")
    assert result.success, result.error_message
    assert "sum: 6" in result.logs.stdout[0]


def test_code_and_files_share_the_session(agentbay_session):
    ran = agentbay_session.code.run_code(
        "import json\nwith open('/tmp/result.json', 'w') as f:\n    json.dump({'answer': 42}, f)",
        "python",
    )
    assert ran.success, ran.error_message
    assert agentbay_session.file_system.read_file("/tmp/result.json").content == '{"answer": 42}'


def test_a_run_that_takes_too_long_is_stopped(agentbay_session):
    result = agentbay_session.code.run_code("import time\ntime.sleep(30)", "python", timeout_s=1)
    assert not result.success
