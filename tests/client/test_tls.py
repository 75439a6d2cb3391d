"""TLS set-up only where TLS is used: loading CA certificates costs about 30 ms per client."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import pytest

from pytest_agentbay import AgentBay, AsyncAgentBay, Config


@pytest.fixture
def loaded(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every CA bundle a TLS context loads from now on."""
    calls: list[Any] = []
    real = ssl.SSLContext.load_verify_locations

    def spy(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        calls.append(args or kwargs)
        real(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", spy)
    return calls


def connection_pool(kind: Any, endpoint: str) -> None:
    """Make a client and its connection pool (the async client's is made per event loop)."""
    client = kind("key", Config(endpoint))
    if kind is AsyncAgentBay:

        async def touch() -> None:
            assert client._driver.http is not None
            await client.close()

        asyncio.run(touch())
    else:
        client.close()


@pytest.mark.parametrize("kind", [AgentBay, AsyncAgentBay])
def test_a_plain_http_endpoint_loads_no_certificates(kind: Any, loaded: list[Any]) -> None:
    connection_pool(kind, "http://127.0.0.1:9")
    assert loaded == []


@pytest.mark.parametrize("kind", [AgentBay, AsyncAgentBay])
def test_an_https_endpoint_still_verifies_with_the_ca_bundle(
    kind: Any, loaded: list[Any]
) -> None:
    connection_pool(kind, "agentbay.cn-hangzhou.aliyuncs.com")
    assert len(loaded) == 1
