"""Smaller faults a CI run meets: reports that list other tests' calls, silent bad settings,
short keys, unwritable cassettes, a wrong key, and temp directories left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_agentbay.redact import mask_key, redact

from .conftest import QUIET, Backend, run


def test_a_failed_tests_report_lists_only_its_own_calls(
    inner: pytest.Pytester, backend: Backend
) -> None:
    backend.emulator.set_latency("DeleteSessionAsync", 0.3)  # deleted while the next test runs
    inner.makepyfile(
        test_rep="""
        import time

        def test_a(agentbay_session):
            assert agentbay_session.command.execute_command("echo first").success

        def test_b(agentbay_session):
            agentbay_session.command.execute_command("echo mine")
            time.sleep(0.5)
            assert False

        def test_c(agentbay_session):
            pass
        """
    )
    result = run(inner)
    result.assert_outcomes(passed=2, failed=1)
    first = backend.created_for("test_rep.py::test_a")[0].session_id
    later = backend.created_for("test_rep.py::test_c")[0].session_id
    report = result.stdout.str().split("last calls (oldest first):")[1].split("=====")[0]
    assert "echo mine" in report
    assert first not in report and later not in report
    assert backend.live() == []


def test_a_negative_precreate_is_refused(inner: pytest.Pytester) -> None:
    result = inner.runpytest("--agentbay", "--agentbay-precreate=-3", *QUIET)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--agentbay-precreate must be 0 or more, got -3*"])


@pytest.mark.parametrize("key", ["k", "abcd", "abcdefgh", "akm-0123456789ab"])
def test_masking_never_shows_most_of_a_key(key: str) -> None:
    shown = mask_key(key)
    assert key not in shown or len(key) > 16
    assert f"({len(key)} chars)" in shown
    assert len(shown.split("*")[0]) * 4 <= len(key)


def test_redacting_a_short_key_leaves_other_words_alone() -> None:
    assert redact("abc: the cabin of abcd, abc", "abc") == "***: the cabin of abcd, ***"
    assert redact("token=longersecret1 end", "longersecret1") == "token=*** end"


def test_an_unwritable_cassette_directory_is_a_clear_error(
    inner: pytest.Pytester, backend: Backend
) -> None:
    Path(inner.path, "blocked").write_text("a file where the cassette directory should be")
    inner.makepyfile("def test_records(agentbay_session):\n    pass\n")
    result = run(inner, "--agentbay-record-mode=once", "--agentbay-cassette-dir=blocked/tapes")
    out = result.stdout.str()
    assert "cannot use cassette" in out and "--agentbay-cassette-dir" in out
    assert "Traceback" not in out and "OSError" not in out
    assert backend.live() == []


def test_a_wrong_key_stops_the_run_once_naming_the_variable(
    inner: pytest.Pytester, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTBAY_API_KEY", "akm-not-the-right-key-000")
    inner.makepyfile(
        "\n".join(f"def test_{i}(agentbay_session):\n    pass\n" for i in range(5))
    )
    result = run(inner)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    out = result.stdout.str()
    assert out.count("AgentBay refused the API key") == 1
    assert "set AGENTBAY_API_KEY to a valid key" in out
    assert "not-the-right-key" not in out
    assert backend.live() == []


def test_a_local_run_leaves_no_temp_directory(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    inner.makepyfile("def test_uses(agentbay_session):\n    pass\n")
    result = inner.runpytest_subprocess("--agentbay", *QUIET, timeout=60)
    result.assert_outcomes(passed=1)
    assert [p.name for p in temp.iterdir() if p.name.startswith("agentbay-")] == []
    assert os.environ["TMPDIR"] == str(temp)
