"""Where the key and endpoint come from, and the errors when they are missing or malformed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_agentbay import AgentBay, AsyncAgentBay, Config


def test_no_key_says_how_to_provide_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="AGENTBAY_API_KEY"):
        AgentBay()


def test_key_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("AGENTBAY_API_KEY=from-dotenv\n")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert AgentBay()._driver._api_key == "from-dotenv"  # nearest .env upward
    monkeypatch.setenv("AGENTBAY_API_KEY", "from-env")
    assert AgentBay()._driver._api_key == "from-env"
    assert AgentBay(api_key="from-arg")._driver._api_key == "from-arg"


def test_explicit_env_file(tmp_path: Path) -> None:
    env = tmp_path / "custom.env"
    env.write_text("AGENTBAY_API_KEY=k\nAGENTBAY_ENDPOINT=http://127.0.0.1:9\n")
    client = AsyncAgentBay(env_file=env)
    assert client.endpoint == "http://127.0.0.1:9"
    with pytest.raises(ValueError, match="does not exist"):
        AgentBay(env_file=tmp_path / "missing.env")


def test_endpoint_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert AgentBay("k").endpoint == "https://agentbay.cn-hangzhou.aliyuncs.com"
    monkeypatch.setenv("AGENTBAY_REGION_ID", "ap-southeast-1")
    assert AgentBay("k").endpoint == "https://agentbay.ap-southeast-1.aliyuncs.com"
    monkeypatch.setenv("AGENTBAY_ENDPOINT", "http://127.0.0.1:8765")
    assert AgentBay("k").endpoint == "http://127.0.0.1:8765"
    assert AgentBay("k", Config("example.test:443")).endpoint == "https://example.test:443"


def test_region_endpoint_is_login_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTBAY_REGION_ID", "pre-cn-hangzhou")
    client = AgentBay("k")
    assert client.endpoint == "https://agentbay-pre.cn-hangzhou.aliyuncs.com"
    assert client.region_id == "pre-cn-hangzhou"


@pytest.mark.parametrize("endpoint", ["", "ftp://host", "http://", "not a host", "http://a b"])
def test_bad_endpoint(endpoint: str) -> None:
    with pytest.raises(ValueError, match="endpoint"):
        Config(endpoint)


@pytest.mark.parametrize("timeout", [0, -1, True, 1.5])
def test_bad_timeout(timeout: object) -> None:
    with pytest.raises(ValueError, match="timeout_ms"):
        Config("h.test", timeout)  # type: ignore[arg-type]


def test_timeout_is_honoured() -> None:
    client = AgentBay("k", Config("http://127.0.0.1:1", timeout_ms=1500))
    assert client._driver.timeout_s == 1.5
