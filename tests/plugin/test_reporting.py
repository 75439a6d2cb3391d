"""What a user reads: the failure's "agentbay" section and the terminal summary."""

from __future__ import annotations

import re

import pytest

from .conftest import KEY, Backend, run

FAILING = """
import os
import pytest

@pytest.mark.agentbay(image="code_latest", labels={"team": "qa"})
def test_fails(agentbay_session, agentbay_module_session):
    agentbay_session.command.execute_command("echo first")
    agentbay_session.command.execute_command("seq 1 2000; echo oops >&2; exit 3")
    agentbay_module_session.command.execute_command("echo " + os.environ["AGENTBAY_API_KEY"])
    assert False, "the code under test misbehaved"

def test_passes(agentbay_session):
    agentbay_session.command.execute_command("echo fine")
"""


def test_failure_section_names_backend_sessions_and_last_commands(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makepyfile(test_report=FAILING)
    result = run(inner)
    result.assert_outcomes(failed=1, passed=1)
    (function,) = [s.session_id for s in backend.created_for("test_report.py::test_fails")]
    (module,) = [s.session_id for s in backend.created_for("test_report.py")]
    result.stdout.fnmatch_lines(
        [
            "*- agentbay -*",
            f"backend: cloud ({backend.url}), key: akm-*** (27 chars)",
            f'session {function}: image code_latest, labels {{*"team": "qa"*}}',
            f'session {module}: image linux_latest, labels {{"pytest-agentbay.alive-until": *}}',
            "last calls (oldest first):",
            f"  CreateMcpSession {function} [[]request *[]]: created",
            f"  CallMcpTool {function} [[]request *[]]: "
            "$ echo first; exit code 0; stdout: ...'first\\n'",
            f"  CallMcpTool {function} [[]request *[]]: $ seq 1 2000; echo oops >&2; exit 3; "
            "exit code 3; stdout: ...'*1999\\n2000\\n'; stderr: ...'oops\\n'",
            f"  CallMcpTool {module} [[]request *[]]: $ echo ***; exit code 0; stdout: ...'***\\n'",
        ]
    )
    section = result.stdout.str().split("- agentbay -", 1)[1].split("= agentbay =", 1)[0]
    tail = re.search(r"stdout: \.\.\.'([^']*)'; stderr", section)
    assert tail is not None and len(tail.group(1).encode().decode("unicode_escape")) <= 400
    assert "fine" not in section  # the passing test's calls are not in the failing one's report
    assert KEY not in result.stdout.str() + result.stderr.str()


def test_failure_section_of_an_async_test(inner: pytest.Pytester, backend: Backend) -> None:
    inner.makepyfile(
        test_async="""
        async def test_fails(async_agentbay_session):
            await async_agentbay_session.command.execute_command("false")
            assert False
        """
    )
    result = run(inner, "-o", "asyncio_mode=auto")
    result.assert_outcomes(failed=1)
    (session,) = backend.sessions()
    result.stdout.fnmatch_lines(
        [
            "*- agentbay -*",
            f"backend: cloud ({backend.url}), *",
            f"session {session.session_id}: image linux_latest, labels *",
            f"  CallMcpTool {session.session_id} [[]request *[]]: $ false; exit code 1",
        ]
    )


def test_passing_and_skipped_tests_get_no_section(inner: pytest.Pytester, backend: Backend) -> None:
    inner.makepyfile(
        """
        import pytest

        def test_passes(agentbay_session):
            pass

        def test_skips(agentbay_session):
            pytest.skip("not today")
        """
    )
    result = run(inner, "-rA")
    result.assert_outcomes(passed=1, skipped=1)
    assert "- agentbay -" not in result.stdout.str()


def test_setup_error_report_carries_the_service_failure(
    inner: pytest.Pytester, backend: Backend
) -> None:
    backend.emulator.set_quota(0)
    inner.makepyfile("def test_one(agentbay_session):\n    pass\n")
    result = run(inner, "--agentbay-quota-timeout=0.5")  # the refusal is retried until then
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*- agentbay -*",
            f"backend: cloud ({backend.url}), *",
            "last calls (oldest first):",
            "  CreateMcpSession  [[]request *[]]: *QuotaExceeded.McpSession*",
        ]
    )


def test_summary_counts_sessions_and_latency(inner: pytest.Pytester, backend: Backend) -> None:
    inner.makepyfile(
        test_a="""
        def test_1(agentbay_module_session, agentbay_session):
            pass

        def test_2(agentbay_module_session):
            pass

        def test_3(agentbay_module_session):
            pass
        """
    )
    result = run(inner)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "*= agentbay =*",
            "sessions: 2 created, 2 reused, 2 deleted, 0 leaked",
            "create latency: p50 *.??? s, p95 *.??? s",
            "session time: *.? session-seconds",
        ]
    )


def test_no_summary_without_agentbay(inner: pytest.Pytester) -> None:
    inner.makepyfile("def test_plain():\n    pass\n")
    result = inner.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "= agentbay =" not in result.stdout.str()
