"""AgentBay and AsyncAgentBay (and their sessions) expose the same names and signatures."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from pytest_agentbay import AgentBay, AsyncAgentBay, Config

from .conftest import ENDPOINT, KEY


def public(obj: Any) -> dict[str, Any]:
    return {n: getattr(obj, n) for n in dir(obj) if not n.startswith("_")}


# Methods that send no request: plain on both clients, never awaited.
LOCAL = {"session"}


def pairs() -> list[tuple[str, Any, Any]]:
    sync, asyn = AgentBay(KEY, Config(ENDPOINT)), AsyncAgentBay(KEY, Config(ENDPOINT))
    s, a = sync.session("s"), asyn.session("s")
    return [
        ("client", sync, asyn),
        ("session", s, a),
        ("command", s.command, a.command),
        ("computer", s.agent.computer, a.agent.computer),
        ("browser", s.agent.browser, a.agent.browser),
    ]


@pytest.mark.parametrize(
    ("name", "sync", "asyn"), pairs(), ids=lambda p: p if isinstance(p, str) else ""
)
def test_same_public_names_and_signatures(name: str, sync: Any, asyn: Any) -> None:
    sync_names, async_names = public(sync), public(asyn)
    assert sorted(sync_names) == sorted(async_names)
    for attr, member in sync_names.items():
        other = async_names[attr]
        if callable(member) and not isinstance(member, type):
            assert inspect.signature(member) == inspect.signature(other), attr
            awaitable = attr not in LOCAL
            assert inspect.iscoroutinefunction(other) == awaitable, f"{name}.{attr} (awaitable?)"
            assert not inspect.iscoroutinefunction(member), f"{name}.{attr} is async on AgentBay"
            assert member.__doc__ and member.__doc__ == other.__doc__, attr


def test_seed_api_names_exist() -> None:
    client = AgentBay(KEY, Config(ENDPOINT))
    for name in (
        "create",
        "list",
        "delete",
        "get_session",
        "get",
        "pause",
        "pause_async",
        "resume",
        "resume_async",
    ):
        assert callable(getattr(client, name)), name
    assert list(inspect.signature(client.pause).parameters) == [
        "session",
        "timeout",
        "poll_interval",
    ]
    assert inspect.signature(client.pause).parameters["timeout"].default == 600
