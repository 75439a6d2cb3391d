"""pytest entry point (`pytest11: agentbay`): options, markers, backend lifecycle and reporting."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from . import fixtures, options
from .fixtures import *  # noqa: F403 - pytest finds the fixtures in this module's namespace
from .markers import MARKER, MARKER_HELP, validate
from .reap import reap
from .run import FAILED_KEY, RUN_KEY, USED_KEY, Run, get_run
from .tracker import Tracker


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: {MARKER_HELP}")
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    tracker = Tracker(workerinput.get("workerid", "main"), workerinput.get("agentbay_run_id"))
    enabled = bool(options.resolve(config, "agentbay"))
    run = Run(
        config,
        enabled,
        tracker,
        keep_on_failure=bool(options.resolve(config, "agentbay_keep_on_failure")),
    )
    config.stash[RUN_KEY] = run
    options.resolve_labels(config, {})  # a malformed label stops the run at start
    if enabled and not options.resolve(config, "agentbay_reap"):
        from .backend import choose

        run.backend = choose(config)
        tracker.secrets.add(run.backend.api_key)


def pytest_configure_node(node: Any) -> None:
    """xdist: workers reach the controller's backend and share its run id."""
    run = get_run(node.config)
    node.workerinput["agentbay_run_id"] = run.tracker.run_id
    if run.backend is not None:
        node.workerinput["agentbay_backend"] = run.backend.shared()


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    if options.resolve(config, "agentbay_reap"):
        config._do_configure()
        try:
            return reap(config)
        finally:
            config._ensure_unconfigure()
    return None


def pytest_report_header(config: pytest.Config) -> list[str]:
    run = get_run(config)
    if run.backend is None:
        return ["agentbay: off (tests that need AgentBay are skipped; run with --agentbay)"]
    image = options.resolve(config, "agentbay_image")
    return [f"agentbay: {run.backend.describe()}, default image: {image}"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests that use AgentBay, check their markers, and skip them without --agentbay."""
    run = get_run(config)
    skip = pytest.mark.skip(
        reason="needs AgentBay: run with `pytest --agentbay` (local "
        "backend, no key needed; the cloud when AGENTBAY_API_KEY is set)"
    )
    for item in items:
        uses = fixtures.AGENTBAY_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if not uses and item.get_closest_marker(MARKER) is None:
            continue
        validate(item)
        if uses and item.get_closest_marker(MARKER) is None:
            item.add_marker(MARKER)
        if not run.enabled:
            item.add_marker(skip)


def pytest_runtest_setup(item: pytest.Item) -> None:
    get_run(item.config).tracker.current = item.nodeid


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    run = get_run(item.config)
    if run.backend is None:
        return report
    sessions = [
        value
        for name, value in getattr(item, "funcargs", {}).items()
        if name in fixtures.AGENTBAY_FIXTURES and hasattr(value, "session_id")
    ]
    if report.when == "setup":
        run.tracker.note_use(s.session_id for s in sessions)
    if not report.failed:
        return report
    item.stash[FAILED_KEY] = True
    stored = item.stash.get(USED_KEY, None)
    used = list(stored) if stored else []
    for session in sessions:
        run.failed_sessions.add(session.session_id)
        if not any(u["session_id"] == session.session_id for u in used):
            used.append({"session_id": session.session_id, "image": session.image_id, "labels": {}})
    report.sections.append(
        ("agentbay", run.tracker.report(item.nodeid, run.backend.describe(), used))
    )
    return report


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """After every fixture's teardown: delete whatever this process left alive."""
    run = get_run(session.config)
    run.leaked = run.sweep()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    run = get_run(config)
    if run.backend is None:
        return
    terminalreporter.section("agentbay")
    for line in run.tracker.stats.lines():
        terminalreporter.write_line(line)
    for session_id in run.leaked:
        terminalreporter.write_line(f"leaked session {session_id}: deleted by the end-of-run sweep")
    for session_id in sorted(run.tracker.kept):
        terminalreporter.write_line(
            f"kept session {session_id} (a test using it failed): "
            + run.backend.reach_hint(session_id)
        )


def pytest_unconfigure(config: pytest.Config) -> None:
    if RUN_KEY in config.stash:
        get_run(config).close()
