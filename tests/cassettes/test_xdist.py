"""Under xdist (-n 2) every worker records its tests and scopes; the cassettes replay with and
without xdist. Writes are atomic and merged, so workers sharing a cassette lose nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pytest_agentbay.cassette import files
from pytest_agentbay.cassette.scrub import ENDPOINT

from .conftest import Live, Project

SHARED = """
import pytest

@pytest.mark.parametrize("n", range(6))
def test_shared(agentbay_shared_session, n):
    result = agentbay_shared_session.command.execute_command(f"echo {n}")
    assert result.stdout == f"{n}\\n"
"""
MODULE = """
import pytest

@pytest.mark.parametrize("n", range(3))
def test_module(agentbay_module_session, n):
    assert agentbay_module_session.command.execute_command(f"echo m{n}").stdout == f"m{n}\\n"

@pytest.mark.parametrize("word", ["a/b", "x y:z"])  # ids that are not file names
def test_own(agentbay_session, word):
    assert agentbay_session.command.execute_command(f"echo '{word}'").stdout == f"{word}\\n"
"""


def test_recorded_with_two_workers_replays_with_and_without_them(
    project: Project, live: Live
) -> None:
    project.pytester.makepyfile(test_shared=SHARED, test_module=MODULE)
    result = project.record("once", "-n", "2")
    result.assert_outcomes(passed=11)
    written = project.cassettes()
    assert len(written) == 11 + 2  # the tests, the run's scope and the module's
    assert "__session__.yaml" in written and "test_module/__module__.yaml" in written
    assert "test_module/test_own[a_b]-" in "\n".join(written)  # made safe, told apart
    assert not list(project.root.rglob("*.tmp"))
    for text in written.values():
        assert isinstance(yaml.safe_load(text)["interactions"], list)

    project.replay("-n", "2").assert_outcomes(passed=11)
    project.replay(offline=False).assert_outcomes(passed=11)


def interaction(command: str) -> files.Interaction:
    uri = f"{ENDPOINT}/?Action=CallMcpTool"
    return {
        "request": {"method": "POST", "uri": uri, "body": f"Args={command}", "headers": {}},
        "response": {"status": {"code": 200}, "headers": {}, "body": {"string": command}},
    }


def test_a_writer_that_loaded_an_older_file_merges_instead_of_clobbering(tmp_path: Path) -> None:
    path = tmp_path / "shared.yaml"
    files.write(path, "shared.yaml", [interaction("first")], [], since=None)
    # A second worker opened the cassette before the first wrote it (it was absent then).
    written, _ = files.write(path, "shared.yaml", [interaction("second")], [], since=None)
    assert [i["response"]["body"]["string"] for i in written] == ["first", "second"]
    assert files.read(path, "shared.yaml") == written


def test_a_failed_write_leaves_the_old_file_and_no_partial_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.yaml"
    _, stamp = files.write(path, "c.yaml", [interaction("old")], [], since=None)
    before = path.read_bytes()

    def crash(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        files.write(path, "c.yaml", [interaction("new")], [], since=stamp)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["c.yaml"]
