"""What teams customise: the plugin's own hook specifications, the per-directory overrides of
`agentbay_session_params`, and the `agentbay` marks a conftest.py cannot hold. pytest loads
this module as a plugin of its own."""

from __future__ import annotations

from typing import Any

import pytest

from . import hookspecs, params


def pytest_addhooks(pluginmanager: Any) -> None:
    """The plugin's own hooks, for teams' conftest.py files and plugins (see hookspecs.py)."""
    pluginmanager.add_hookspecs(hookspecs)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """UsageError for an `agentbay` mark in a conftest.py's pytestmark (it would apply to no
    test), and for overrides of `agentbay_session_params` that tests sharing a session disagree
    on or that are narrower than the sessions using them."""
    for plugin in config.pluginmanager.get_plugins():
        problem = params.conftest_marks(plugin)
        if problem is not None:
            raise pytest.UsageError(problem)
    params.check(items)
