"""Failures visible to CI tools: every AgentBay test's session ids (and a failed test's request
ids) as JUnit `<properties>`, and with `--agentbay-output=DIR` each failed test's call log as
files, one directory per test (as Playwright's `test-results/`). Nothing is written for passing
tests; everything written is redacted. pytest loads this module as a plugin of its own."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Generator, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..redact import redact
from .options import setting
from .run import Run, active_run
from .scopes import NAMES

if TYPE_CHECKING:
    from .tracker import Entry

OUTPUT_KEY = pytest.StashKey["Path | None"]()
FILES = frozenset({"agentbay-calls.log", "agentbay-calls.json"})
SESSION_PROPERTY = "agentbay_session_id"
REQUEST_PROPERTY = "agentbay_request_id"


def pytest_configure(config: pytest.Config) -> None:
    directory = output_directory(config)
    config.stash[OUTPUT_KEY] = directory
    if directory is not None and not hasattr(config, "workerinput"):  # once, before workers
        clear_stale(directory)


def output_directory(config: pytest.Config) -> Path | None:
    """--agentbay-output's directory: relative to where pytest was started, or to the rootdir
    when it comes from the ini file; None when unset."""
    value = setting(config, "agentbay_output")
    if not value:
        return None
    from_ini = config.getoption("agentbay_output") is None and config.getini("agentbay_output")
    return Path(config.rootpath if from_ini else config.invocation_params.dir, value)


def clear_stale(directory: Path) -> None:
    """Remove the test directories an earlier run wrote: only those holding nothing but our
    files, so pointing the option at a directory of your own deletes nothing of yours."""
    if not directory.is_dir():
        return
    for child in directory.iterdir():
        names = {p.name for p in child.iterdir()} if child.is_dir() else set()
        if names and names <= FILES:
            shutil.rmtree(child)


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: after the report's own section
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    run = active_run(item.config)
    if run is None or run.backend is None:
        return report
    if report.when == "teardown":
        _finish(item, report, run)
    return report


def _finish(item: pytest.Item, report: pytest.TestReport, run: Run) -> None:
    """The test is over: its JUnit properties, its files if it failed; then forget its calls."""
    from .run import FAILED_KEY  # set by the plugin's report hook for any failed phase

    entries = list(run.tracker.entries.pop(item.nodeid, ()))
    sessions = sessions_of(item)
    failed = item.stash.get(FAILED_KEY, False)
    properties = [(SESSION_PROPERTY, s["session_id"]) for s in sessions]
    if failed:
        requests = dict.fromkeys(e.request_id for e in entries if e.request_id)
        properties += [(REQUEST_PROPERTY, r) for r in requests]
    item.user_properties.extend(properties)
    report.user_properties.extend(properties)  # JUnit XML reads the teardown report's
    directory = item.config.stash.get(OUTPUT_KEY, None)
    if failed and directory is not None and (entries or sessions):
        write_files(directory / safe_name(item.nodeid), item.nodeid, run, sessions, entries)


def sessions_of(item: pytest.Item) -> list[dict[str, Any]]:
    """The sessions the test used: those made for it, then the wider-scoped ones it got."""
    from .run import USED_KEY  # the client with it: only in runs that use AgentBay

    made = [*item.stash.get(USED_KEY, [])]
    funcargs = getattr(item, "funcargs", None) or {}
    for name, value in funcargs.items():
        if name in NAMES and hasattr(value, "session_id"):
            made.append({"session_id": value.session_id, "image": value.image_id})
    unique: dict[str, dict[str, Any]] = {}
    for info in made:  # the first mention wins: it knows the labels
        unique.setdefault(info["session_id"], info)
    return list(unique.values())


def safe_name(nodeid: str) -> str:
    """A directory name for `nodeid`: readable, portable, and unique (a hash of the node id)."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "-", nodeid).strip("-.")[:80]
    return f"{readable}-{hashlib.sha1(nodeid.encode()).hexdigest()[:8]}"


def write_files(
    target: Path, nodeid: str, run: Run, sessions: list[dict[str, Any]], entries: list[Entry]
) -> None:
    """The call log as text for people and as JSON for tools, redacted once more as a whole."""
    backend = run.backend.describe() if run.backend else ""
    data = {"test": nodeid, "backend": backend, "sessions": sessions,
            "calls": [e.as_dict() for e in entries]}
    target.mkdir(parents=True, exist_ok=True)
    secrets = run.tracker.secrets
    (target / "agentbay-calls.json").write_text(redact(json.dumps(data, indent=2), *secrets))
    text = "\n".join([f"test: {nodeid}", backend, *_session_lines(sessions), *_call_lines(entries)])
    (target / "agentbay-calls.log").write_text(redact(text, *secrets) + "\n")


def _session_lines(sessions: list[dict[str, Any]]) -> Iterable[str]:
    for info in sessions:
        labels = json.dumps(info.get("labels", {}), sort_keys=True)
        yield f"session {info['session_id']}: image {info.get('image', '')}, labels {labels}"


def _call_lines(entries: list[Entry]) -> Iterable[str]:
    yield f"calls (oldest first, the last {len(entries)}):"
    for entry in entries:
        rid = f" [request {entry.request_id}]" if entry.request_id else ""
        yield f"- {entry.action} {entry.session_id}{rid}"
        detail = entry.detail
        if "command" not in detail:
            yield f"  {entry.summary}"
            continue
        yield f"  $ {detail['command']}"
        yield f"  exit code {detail['exit_code']}"
        for stream in ("stdout", "stderr"):
            if detail[stream]:
                yield f"  {stream}:"
                yield from ("    " + line for line in detail[stream].splitlines())
