"""Shared test set-up: no test may reach a real AgentBay endpoint or read the developer's key."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from pytest_agentbay.emulator import Emulator, EmulatorServer


@pytest.fixture(autouse=True, scope="session")
def _official_sdk_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The official SDK logs to ./agentbay.log by default: keep it out of the checkout."""
    with pytest.MonkeyPatch.context() as patch:
        log = tmp_path_factory.mktemp("official-sdk-log") / "agentbay.log"
        patch.setenv("AGENTBAY_LOG_FILE", str(log))
        yield


@pytest.fixture(autouse=True)
def _clean_agentbay_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "AGENTBAY_API_KEY",
        "AGENTBAY_ENDPOINT",
        "AGENTBAY_REGION_ID",
        "AGENTBAY_TIMEOUT_MS",
    ):
        monkeypatch.delenv(name, raising=False)


@contextmanager
def serving(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, key: str) -> Iterator[str]:
    """`emulator` on a loopback port, reachable through AGENTBAY_ENDPOINT and AGENTBAY_API_KEY
    (so an inner `pytest --agentbay --agentbay-backend=cloud` talks to it); yields its URL."""
    server = EmulatorServer(emulator, host="127.0.0.1", port=0).start()
    monkeypatch.setenv("AGENTBAY_API_KEY", key)
    monkeypatch.setenv("AGENTBAY_ENDPOINT", server.url)
    try:
        yield server.url
    finally:
        server.stop()
