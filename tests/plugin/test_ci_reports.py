"""What CI tools read: session and request ids as JUnit properties, and the files of
--agentbay-output (one directory per failed test, redacted, nothing for passing tests)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .conftest import KEY, Backend, run, run_subprocess
from .test_reporting import FAILING

TESTS = FAILING + "\n\ndef test_no_agentbay():\n    pass\n"


def _properties(xml: Path) -> dict[str, list[tuple[str, str]]]:
    cases = ET.parse(xml).getroot().iter("testcase")
    return {
        case.attrib["name"]: [(p.attrib["name"], p.attrib["value"]) for p in case.iter("property")]
        for case in cases
    }


def _all_text(directory: Path) -> str:
    return "".join(p.read_text() for p in directory.rglob("*") if p.is_file())


def test_junit_properties_and_output_files_of_a_failed_test(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makepyfile(test_ci=TESTS)
    result = run(inner, "--junitxml=report.xml", "--agentbay-output=results")
    result.assert_outcomes(failed=1, passed=2)
    (failing,) = [s.session_id for s in backend.created_for("test_ci.py::test_fails")]
    (passing,) = [s.session_id for s in backend.created_for("test_ci.py::test_passes")]
    (module,) = [s.session_id for s in backend.created_for("test_ci.py")]

    props = _properties(inner.path / "report.xml")
    assert props["test_passes"] == [("agentbay_session_id", passing)]
    assert props["test_no_agentbay"] == []
    assert props["test_fails"][:2] == [
        ("agentbay_session_id", failing), ("agentbay_session_id", module)
    ]
    requests = [v for k, v in props["test_fails"] if k == "agentbay_request_id"]
    # the two creates (one maybe ahead of time) and three commands, maybe the delete
    assert len(requests) in (5, 6) and len(set(requests)) == len(requests)

    (directory,) = (inner.path / "results").iterdir()  # nothing for the passing tests
    assert directory.name.startswith("test_ci.py-test_fails-")
    log = (directory / "agentbay-calls.log").read_text()
    (line,) = [x for x in log.splitlines() if x.startswith(f"session {failing}: ")]
    assert line.startswith(f"session {failing}: image code_latest, labels {{")
    assert '"team": "qa"' in line
    assert "  $ seq 1 2000; echo oops >&2; exit 3\n  exit code 3\n  stdout:\n    1\n" in log
    assert "    1999\n    2000\n  stderr:\n    oops\n" in log
    assert "$ echo ***\n  exit code 0\n  stdout:\n    ***\n" in log
    data = json.loads((directory / "agentbay-calls.json").read_text())
    assert data["test"] == "test_ci.py::test_fails"
    assert [c["request_id"] for c in data["calls"]] == requests
    shell = [c["detail"] for c in data["calls"] if c["detail"].get("command")]
    assert [(d["command"][:9], d["exit_code"]) for d in shell] == [
        ("echo firs", 0), ("seq 1 200", 3), ("echo ***", 0)
    ]
    # the key the test echoed reaches neither the files nor the JUnit XML
    assert KEY not in _all_text(inner.path / "results")
    assert KEY not in (inner.path / "report.xml").read_text()


def test_output_under_xdist_from_the_ini_and_stale_directories_cleared(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makepyfile(test_ci=TESTS)
    inner.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n"
                  "agentbay_output = out\n")
    stale = inner.path / "out" / "test_old-0000"
    stale.mkdir(parents=True)
    (stale / "agentbay-calls.log").write_text("from an earlier run")
    mine = inner.path / "out" / "notes"
    mine.mkdir()
    (mine / "keep.txt").write_text("not ours")
    result = run_subprocess(inner, "-n", "2")
    result.assert_outcomes(failed=1, passed=2)
    names = sorted(p.name for p in (inner.path / "out").iterdir())
    assert names[0] == "notes" and names[1].startswith("test_ci.py-test_fails-")
    assert len(names) == 2
    assert KEY not in _all_text(inner.path / "out")


def test_without_the_option_nothing_is_written(inner: pytest.Pytester, backend: Backend) -> None:
    inner.makepyfile(test_ci=TESTS)
    run(inner).assert_outcomes(failed=1, passed=2)
    assert sorted(p.name for p in inner.path.iterdir() if p.is_dir()) == []
