"""The API key never appears in a repr, an exception, a result or a log line."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from pytest_agentbay import AgentBay, Config
from pytest_agentbay.redact import redact

from .conftest import KEY, FakeService, envelope, resolve


@pytest.mark.asyncio
async def test_key_not_in_repr_results_or_errors(client: Any, service: FakeService) -> None:
    service.on("CreateMcpSession", httpx.Response(500, text="oops"))
    result = await resolve(client.create())
    assert KEY not in repr(client) and KEY not in repr(result) and KEY not in str(result)
    assert KEY not in repr(client._driver)


@pytest.mark.asyncio
async def test_key_in_query_is_redacted_from_httpx_logs(
    client: Any, service: FakeService, caplog: pytest.LogCaptureFixture
) -> None:
    service.on("CreateMcpSession", envelope({"SessionId": "s"}))
    service.on("SyncContext", envelope())
    service.on("GetContextInfo", envelope({}))
    service.on("DeleteSessionAsync", envelope())
    service.on("GetSessionDetail", envelope({"Status": "FINISH"}))
    with caplog.at_level(logging.DEBUG):
        session = (await resolve(client.create())).session
        await resolve(session.delete(sync_context=True))
    assert "SyncContext" in caplog.text  # the request was logged...
    assert KEY not in caplog.text and "0123456789" not in caplog.text  # ...without the key


def test_redact_shapes() -> None:
    text = "Authorization=Bearer+akm-abcdef123456&x=1 https://h/?resourceId=p&authcode=ZZZ123"
    out = redact(text)
    assert "akm-abcdef123456" not in out and "ZZZ123" not in out and "resourceId=p" in out
    assert redact("value s3cret here", "s3cret") == "value *** here"


def test_key_not_in_traceback_of_bad_config() -> None:
    with pytest.raises(ValueError) as info:
        AgentBay(KEY, Config("ftp://x"))
    assert KEY not in str(info.value)
