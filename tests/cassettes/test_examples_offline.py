"""`pytest examples/` passes from the repository's cassettes: no key, no network."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import GUARD

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def test_examples_pass_offline_from_the_repository_cassettes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = pytester.path / "network-attempts.log"
    pytester.makepyfile(network_guard=GUARD)
    for name in ("AGENTBAY_API_KEY", "AGENTBAY_ENDPOINT", "AGENTBAY_REGION_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BLOCK_NETWORK", str(attempts))
    result = pytester.runpytest_subprocess(
        "-p", "network_guard", "-p", "no:cacheprovider", "--agentbay-require-cassettes", EXAMPLES
    )
    outcomes = result.parseoutcomes()
    assert result.ret == 0 and set(outcomes) == {"passed"} and outcomes["passed"] >= 17, outcomes
    result.stdout.fnmatch_lines(["agentbay: backend: replay (cassettes in cassettes; no key*"])
    assert not attempts.exists(), attempts.read_text()


def test_the_repository_cassettes_hold_no_key() -> None:
    # The local backend's key is `local-` and 24 random hex digits, new in every run.
    texts = [p.read_text() for p in (ROOT / "cassettes").rglob("*.yaml")]
    assert len(texts) >= 17
    for text in texts:
        assert not re.search(r"local-[0-9a-f]{24}|akm-", text)
        assert set(re.findall(r"Authorization=([^&\n]*)", text)) <= {"Bearer+***"}
