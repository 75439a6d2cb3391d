"""Run every catalogue case through the official SDK (0.13.1), sync and async; print JSON.

Runs in the official SDK's own interpreter (it cannot share an environment with 0.22.3):
`<python with wuying-agentbay-sdk==0.13.1> run_official.py > results.json`. Waits run on a
virtual clock: the SDK modules' `time` and `asyncio` are swapped for proxies whose sleeps only
move that clock forward, so polling cases take no real time.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import ssl
import sys
import time
import types
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from cases import CASES
from replyserver import ReplyServer
from snapshot import snapshot

KEY = "akm-differential-test"


class VirtualTime:
    """Seconds that pass only when the SDK sleeps."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def install(self, package: str) -> None:
        """Give every loaded module of `package` this clock instead of `time` and `asyncio`."""
        fake_time = types.SimpleNamespace(**vars(time))
        fake_time.time = lambda: self.now
        fake_time.sleep = self.advance
        fake_asyncio = types.SimpleNamespace(**vars(asyncio))
        fake_asyncio.sleep = self.asleep
        for name, module in list(sys.modules.items()):
            if name.startswith(package) and module is not None:
                if getattr(module, "time", None) is time:
                    module.time = fake_time  # type: ignore[attr-defined]
                if getattr(module, "asyncio", None) is asyncio:
                    module.asyncio = fake_asyncio  # type: ignore[attr-defined]

    def advance(self, seconds: float) -> None:
        self.now += max(float(seconds), 0.0)

    async def asleep(self, seconds: float, result: Any = None) -> Any:
        self.advance(seconds)
        return await _real_sleep(0, result)


_real_sleep = asyncio.sleep


def _resolve(sdk: Any, target: Any, op: str, args: dict[str, Any], session: Any) -> Any:
    path = op.split(".")
    obj = session if path[0] == "session" else target
    for part in path[1:] if path[0] == "session" else path:
        obj = getattr(obj, part)
    kwargs = {k: session if v == "$session" else v for k, v in args.items()}
    if op == "create":
        return lambda: obj(sdk.CreateSessionParams(**kwargs))
    return lambda: obj(**kwargs)


def _error(error: BaseException) -> dict[str, Any]:
    return {"raised": type(error).__name__, "text": str(error)[:300]}


def run_sync(sdk: Any, server: ReplyServer, case: dict[str, Any]) -> dict[str, Any]:
    client = sdk.AgentBay(api_key=KEY, cfg=sdk.Config(server.url, 60000))
    server.script.load({})
    session = client.create().session if "$session" in case["args"].values() or \
        case["op"].startswith("session.") else None
    server.script.load(case["replies"])
    try:
        out: dict[str, Any] = {"result": snapshot(_resolve(sdk, client, case["op"], case["args"],
                                                           session)())}
    except Exception as error:
        out = _error(error)
    out["requests"] = [action for action, _ in server.script.requests]
    return out


async def run_async(sdk: Any, server: ReplyServer, case: dict[str, Any]) -> dict[str, Any]:
    client = sdk.AsyncAgentBay(api_key=KEY, cfg=sdk.Config(server.url, 60000))
    server.script.load({})
    needs = "$session" in case["args"].values() or case["op"].startswith("session.")
    session = (await client.create()).session if needs else None
    server.script.load(case["replies"])
    try:
        call = _resolve(sdk, client, case["op"], case["args"], session)
        out: dict[str, Any] = {"result": snapshot(await call())}
    except Exception as error:
        out = _error(error)
    out["requests"] = [action for action, _ in server.script.requests]
    return out


def main() -> None:
    """Print `{case name: {"sync": outcome, "async": outcome}}` for the whole catalogue."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        os.environ.pop(name, None)
    os.environ.setdefault("AGENTBAY_LOG_FILE", os.devnull)
    import agentbay  # type: ignore[import-not-found]

    agentbay.AgentBayLogger.setup(level="CRITICAL", enable_file=False, force_reinit=True)
    # The async transport builds a TLS context (reading the CA bundle, ~0.2 s) for every call,
    # even to plain http://; one shared context keeps the run short and reads no reply.
    ssl.create_default_context = functools.lru_cache(maxsize=None)(ssl.create_default_context)
    VirtualTime().install("agentbay")
    results: dict[str, Any] = {"sdk": "0.13.1", "cases": {}}
    with ReplyServer() as server:
        for case in CASES:
            results["cases"][case["name"]] = {
                "sync": run_sync(agentbay, server, case),
                "async": asyncio.run(run_async(agentbay, server, case)),
            }
    json.dump(results, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
