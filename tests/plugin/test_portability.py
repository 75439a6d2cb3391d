"""The plugin loads on systems without POSIX-only modules (Windows has no `fcntl` or `pwd`):
a sitecustomize in the inner project makes importing them fail, as it does there."""

from __future__ import annotations

import pytest

from .conftest import CLOUD, QUIET, Backend

NO_POSIX = """\
import sys

BLOCKED = ("fcntl", "pwd")

class WindowsLike:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

for _name in BLOCKED:
    sys.modules.pop(_name, None)
sys.meta_path.insert(0, WindowsLike)
"""

TESTS = """
import importlib

import pytest

def test_posix_modules_are_missing():
    for name in ("fcntl", "pwd"):
        with pytest.raises(ImportError):
            importlib.import_module(name)

def test_plain():
    pass

def test_session(agentbay_session):
    assert agentbay_session.command.execute_command("echo hi").stdout == "hi\\n"
"""


@pytest.fixture
def windows_like(inner: pytest.Pytester) -> pytest.Pytester:
    """An inner project whose subprocess runs cannot import fcntl or pwd (the project directory
    is on the inner run's PYTHONPATH, so its sitecustomize loads first)."""
    inner.makepyfile(sitecustomize=NO_POSIX, test_it=TESTS)
    return inner


def test_without_fcntl_the_plugin_loads_and_other_tests_run(windows_like: pytest.Pytester) -> None:
    result = windows_like.runpytest_subprocess(*QUIET, "-rs")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["agentbay: off*"])


def test_without_fcntl_cloud_sessions_and_the_quota_work(
    windows_like: pytest.Pytester, backend: Backend
) -> None:
    result = windows_like.runpytest_subprocess(*CLOUD, *QUIET, "--agentbay-max-sessions=1")
    result.assert_outcomes(passed=3)
    assert backend.creates() >= 1 and not backend.live()


def test_without_posix_the_local_backend_says_why_it_cannot_run(
    windows_like: pytest.Pytester,
) -> None:
    result = windows_like.runpytest_subprocess(*QUIET, "--agentbay")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*the local backend cannot run here: it runs commands with bash in POSIX sandboxes"
            "*lacks pwd. Set AGENTBAY_API_KEY for the cloud backend, or run without --agentbay*"
        ]
    )
