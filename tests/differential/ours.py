"""Run one catalogue case through our client, sync or async, on a virtual clock."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from pytest_agentbay import AgentBay, AsyncAgentBay, Config, CreateSessionParams, VirtualClock

KEY = "akm-differential-test"


def _call(client: Any, case: dict[str, Any], session: Any) -> Any:
    path = case["op"].split(".")
    target = session if path[0] == "session" else client
    for part in path[1:] if path[0] == "session" else path:
        target = getattr(target, part)
    kwargs = {k: session if v == "$session" else v for k, v in case["args"].items()}
    if case["op"] == "create":
        return target(CreateSessionParams(**kwargs))
    return target(**kwargs)


def _needs_session(case: dict[str, Any]) -> bool:
    return case["op"].startswith("session.") or "$session" in case["args"].values()


def run_sync(server: Any, case: dict[str, Any]) -> Any:
    """The case's result through `AgentBay` (exceptions propagate)."""
    transport = httpx.HTTPTransport(verify=False)  # plain http: skip loading the CA bundle
    with AgentBay(KEY, Config(server.url), clock=VirtualClock(), transport=transport) as client:
        server.script.load({})
        session = client.create().session if _needs_session(case) else None
        server.script.load(case["replies"])
        return _call(client, case, session)


def run_async(server: Any, case: dict[str, Any]) -> Any:
    """The case's result through `AsyncAgentBay` (exceptions propagate)."""

    async def run() -> Any:
        transport = httpx.AsyncHTTPTransport(verify=False)
        async with AsyncAgentBay(
            KEY, Config(server.url), clock=VirtualClock(), transport=transport
        ) as client:
            server.script.load({})
            session = (await client.create()).session if _needs_session(case) else None
            server.script.load(case["replies"])
            return await _call(client, case, session)

    return asyncio.run(run())
