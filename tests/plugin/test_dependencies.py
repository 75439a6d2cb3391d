"""What a user installs: respx and pytest-xdist are not runtime dependencies (xdist is the
`[xdist]` extra), and the plugin runs where neither is installed."""

from __future__ import annotations

import re
from importlib import metadata

import pytest

from .conftest import CLOUD, QUIET, Backend

NO_OPTIONALS = """\
import sys

BLOCKED = ("xdist", "respx", "pytest_recording", "execnet")

class NotInstalled:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled)
"""


def _requirements() -> dict[str, list[str]]:
    """Requirement names by extra ("" for the runtime ones)."""
    found: dict[str, list[str]] = {}
    for line in metadata.requires("pytest-agentbay") or []:
        name = re.split(r"[\s<>=!~;\[]", line, maxsplit=1)[0].lower()
        extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", line)
        found.setdefault(extra.group(1) if extra else "", []).append(name)
    return found


def test_respx_and_xdist_are_not_runtime_dependencies() -> None:
    found = _requirements()
    assert "respx" not in found[""] and "pytest-xdist" not in found[""], found[""]
    assert found["xdist"] == ["pytest-xdist"]
    assert {"respx", "pytest-xdist", "pytest-recording"} <= set(found["test"])


def test_the_plugin_runs_without_xdist_or_respx(
    inner: pytest.Pytester, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    inner.makepyfile(
        sitecustomize=NO_OPTIONALS,
        test_it="def test_one(agentbay_session):\n    assert agentbay_session.session_id\n",
    )
    plugins = ("-p", "pytest_asyncio.plugin", "-p", "pytest_agentbay.plugin.plugin")
    result = inner.runpytest_subprocess(*plugins, *CLOUD, *QUIET, "--agentbay-max-sessions=1")
    result.assert_outcomes(passed=1)
    fixtures = inner.runpytest_subprocess(*plugins, *QUIET, "--fixtures")
    fixtures.stdout.fnmatch_lines(["agentbay_session_factory*", "agentbay_cassette*"])
    assert "respx_mock" not in fixtures.stdout.str()
