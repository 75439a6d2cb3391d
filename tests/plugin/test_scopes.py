"""The fixture table (`scopes.py`) is the truth: every fixture the plugin registers has a row,
with the scope pytest sees, and no row names a fixture that does not exist."""

from __future__ import annotations

import re

import pytest

from pytest_agentbay.plugin.scopes import FIXTURES

from .conftest import QUIET

ROW = re.compile(r"^(\w+)(?: \[(\w+) scope\])? -- ")


def test_every_registered_fixture_is_in_the_table_with_its_scope(inner: pytest.Pytester) -> None:
    result = inner.runpytest("--fixtures", *QUIET)
    lines = result.stdout.lines
    heading = "from pytest_agentbay.plugin.fixtures"
    start = next(i for i, line in enumerate(lines) if heading in line)
    seen: dict[str, str] = {}
    for line in lines[start + 1 :]:
        if line.startswith("---") or line.startswith("==="):
            break
        found = ROW.match(line)
        if found:
            seen[found[1]] = found[2] or "function"
    assert seen == {name: use.scope for name, use in FIXTURES.items()}


def test_the_plugin_module_itself_defines_no_fixtures(inner: pytest.Pytester) -> None:
    """The fixtures come from their own module (a plugin of its own), not a star import."""
    result = inner.runpytest("--fixtures", *QUIET)
    assert "from pytest_agentbay.plugin.plugin" not in result.stdout.str()
