"""The README's main job: `pytest --agentbay examples/` passes on the local backend, leaving
no session behind."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_examples_pass_on_the_local_backend(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        "--agentbay", "-p", "no:cacheprovider", "-o", "asyncio_mode=strict", str(EXAMPLES)
    )
    outcomes = result.parseoutcomes()
    assert result.ret == 0 and set(outcomes) == {"passed"} and outcomes["passed"] >= 15, outcomes
    result.stdout.fnmatch_lines(["agentbay: backend: local (http://127.0.0.1:*", "*0 leaked*"])
    result.stdout.no_fnmatch_line("*failed*")


def test_examples_skip_without_the_flag_or_cassettes(pytester: pytest.Pytester) -> None:
    none = str(pytester.path / "no-cassettes")  # (tests/cassettes replays the examples' own)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", f"--agentbay-cassette-dir={none}", str(EXAMPLES)
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("skipped", 0) >= 15 and "passed" not in outcomes
    result.stdout.fnmatch_lines(["agentbay: off*"])
