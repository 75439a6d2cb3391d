"""The one table of the plugin's fixtures: each one's pytest scope, whose session it gives, and
whether that session can be created ahead of time. Fixtures, the planner, the xdist scheduler
and the reports all read it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest

Scope = Literal["function", "class", "module", "session"]
Owner = Literal["test", "class", "module", "run"]


@dataclass(frozen=True)
class Use:
    """One fixture: its pytest `scope`; `owner`, the node whose session it gives (None: it gives
    no session of its own); `ahead`, whether the planner may create that session early."""

    scope: Scope
    owner: Owner | None = None
    ahead: bool = False


FIXTURES: dict[str, Use] = {
    "agentbay_endpoint": Use("session"),
    "agentbay_client": Use("session"),
    "agentbay_session_params": Use("session"),  # a conftest.py overrides it per directory
    "async_agentbay_client": Use("function"),
    "agentbay_session": Use("function", "test", ahead=True),
    "agentbay_class_session": Use("class", "class", ahead=True),
    "agentbay_module_session": Use("module", "module", ahead=True),
    "agentbay_shared_session": Use("session", "run"),  # one for all xdist workers: not planned
    "async_agentbay_session": Use("function", "test", ahead=True),
    # Async views of the wider sessions: per test, the sync session's data on the test's client.
    "async_agentbay_class_session": Use("function", "class", ahead=True),
    "async_agentbay_module_session": Use("function", "module", ahead=True),
    "async_agentbay_shared_session": Use("function", "run"),
    "agentbay_session_factory": Use("function"),
    "async_agentbay_session_factory": Use("function"),
    "agentbay_emulator": Use("function"),
    "agentbay_cassette": Use("function"),
}

NAMES = frozenset(FIXTURES)


def used_by(item: pytest.Item) -> list[Use]:
    """The table rows of the plugin's fixtures `item` uses."""
    return [FIXTURES[name] for name in getattr(item, "fixturenames", ()) if name in FIXTURES]


def owner_node(item: pytest.Item, owner: Owner) -> pytest.Item | pytest.Collector | None:
    """The node that owns a session `item` uses: itself, its class or its module."""
    if owner == "test":
        return item
    if owner == "run":
        return None
    return item.getparent(pytest.Class if owner == "class" else pytest.Module)
