"""What the plugin costs where it is not used: importing it loads no client, and listing tests
(what IDEs run, often with `agentbay = true` in the ini) starts no backend and creates nothing.
(The time it costs is measured in benchmarks/overhead_bench.py, not asserted here.)"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .conftest import QUIET, Backend, run

HEAVY = ("httpx", "pydantic", "yaml", "vcr", "dotenv", "pytest_agentbay.client")


def test_importing_the_plugin_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, pytest_agentbay.plugin.plugin\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_run_without_agentbay_tests_loads_no_heavy_dependency(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        f"""
        import sys

        def test_nothing_heavy_loaded():
            assert sorted(m for m in {HEAVY!r} if m in sys.modules) == []
        """
    )
    # respx's own pytest plugin imports httpx: left out to see what ours loads
    result = inner.runpytest_subprocess(*QUIET, "-p", "no:respx", timeout=60)
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize("listing", ["--collect-only", "--setup-plan"])
def test_listing_tests_creates_nothing_and_reaches_no_backend(
    inner: pytest.Pytester, backend: Backend, listing: str
) -> None:
    inner.makepyfile(
        """
        import pytest

        def test_a(agentbay_session, agentbay_module_session):
            pass

        @pytest.mark.asyncio
        async def test_b(async_agentbay_session, agentbay_shared_session):
            pass
        """
    )
    result = run(inner, listing)
    assert result.ret == 0
    assert "listing tests only" in result.stdout.str()
    assert sum(backend.emulator.requests.values()) == 0  # not a single call reached it


@pytest.mark.parametrize("listing", ["--collect-only", "--setup-plan"])
def test_listing_tests_starts_no_local_backend(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, listing: str
) -> None:
    """With `agentbay = true` in the ini, as an IDE lists tests: no emulator, no fleet."""
    inner.makeini("[pytest]\nagentbay = true\nasyncio_default_fixture_loop_scope = function\n")
    inner.makepyfile("def test_a(agentbay_session):\n    pass\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # the local backend's sandboxes
    monkeypatch.delenv("AGENTBAY_API_KEY", raising=False)
    result = inner.runpytest(*QUIET, "--agentbay-backend=local", listing)
    assert result.ret == 0
    assert list(scratch.iterdir()) == []  # no sandbox root, no fleet directory
