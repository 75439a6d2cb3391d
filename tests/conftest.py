"""Shared test set-up: no test may reach a real AgentBay endpoint or read the developer's key."""

import pytest


@pytest.fixture(autouse=True)
def _clean_agentbay_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "AGENTBAY_API_KEY",
        "AGENTBAY_ENDPOINT",
        "AGENTBAY_REGION_ID",
        "AGENTBAY_TIMEOUT_MS",
    ):
        monkeypatch.delenv(name, raising=False)
