"""pytest entry point (`pytest11: agentbay`): options, markers, backend lifecycle and reporting."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import asdict
from typing import Any

import pytest

from . import fixtures, options, recording
from .fixtures import *  # noqa: F403 - pytest finds the fixtures in this module's namespace
from .fleet import Fleet
from .markers import MARKER, MARKER_HELP, validate
from .planner import plan_of
from .reap import reap
from .run import FAILED_KEY, RUN_KEY, USED_KEY, Run, get_run
from .tracker import Tracker

VALIDATED_KEY = pytest.StashKey[bool]()  # every collected test's markers were checked


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)  # "agentbay(...): ..." like pytest's own
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    tracker = Tracker(workerinput.get("workerid", "main"), workerinput.get("agentbay_run_id"))
    enabled = bool(options.resolve(config, "agentbay"))
    max_sessions = options.resolve(config, "agentbay_max_sessions")
    if max_sessions is not None and int(max_sessions) < 1:
        raise pytest.UsageError(f"--agentbay-max-sessions must be 1 or more, got {max_sessions}")
    run = Run(
        config,
        enabled,
        tracker,
        keep_on_failure=bool(options.resolve(config, "agentbay_keep_on_failure")),
        fleet=Fleet(workerinput.get("agentbay_fleet")),
        max_sessions=int(max_sessions) if max_sessions is not None else None,
        shard=not options.resolve(config, "agentbay_no_shard"),
        precreate=max(0, int(options.resolve(config, "agentbay_precreate"))),
        is_worker=bool(workerinput),
        uses_xdist=bool(workerinput) or bool(getattr(config.option, "numprocesses", None)),
    )
    config.stash[RUN_KEY] = run
    if config.pluginmanager.hasplugin("xdist"):
        from .xdist import XdistHooks

        config.pluginmanager.register(XdistHooks(run), "agentbay-xdist")
    options.resolve_labels(config, {})  # a malformed label stops the run at start
    if enabled and not options.resolve(config, "agentbay_reap"):
        from .backend import choose

        run.backend = choose(config)
        tracker.secrets.add(run.backend.api_key)
    recording.configure(config, run)  # cassettes: record in live runs, else maybe replay


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
    config.stash[VALIDATED_KEY] = True
    if run.is_worker and run.enabled:  # tell the controller's scheduler which tests group
        from .xdist import groups_of

        run.fleet.write_groups(run.tracker.worker, groups_of(items))


@pytest.hookimpl(tryfirst=True)  # before xdist tells the controller collection is done
def pytest_collection_finish(session: pytest.Session) -> None:
    """Plan the sessions the collected tests need, to create them ahead of time."""
    run = get_run(session.config)
    # pytest calls this hook even when collection failed (a malformed marker): plan nothing then
    if run.plans() and session.config.stash.get(VALIDATED_KEY, False):
        plan = plan_of(run, session.items, by_size=run.is_worker and run.shard)
        if run.is_worker:
            run.fleet.write_plan(run.tracker.worker, plan)
        else:
            run.start_planner(plan)


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
    ids = {s.session_id for s in sessions}
    used = [  # what the test made, then the wider-scoped sessions it used (kept on their node)
        info
        for node in reversed(item.listchain())
        for info in node.stash.get(USED_KEY, None) or []
        if node is item or info["session_id"] in ids
    ]
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
    if run.is_worker:
        session.config.workeroutput["agentbay_stats"] = asdict(run.tracker.stats)  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    run = get_run(config)
    stats = run.tracker.stats
    if run.backend is None or not (stats.created or stats.reused or run.leaked or run.crashed):
        return
    terminalreporter.section("agentbay")
    for line in run.tracker.stats.lines():
        terminalreporter.write_line(line)
    for session_id in run.leaked:
        terminalreporter.write_line(f"leaked session {session_id}: deleted by the end-of-run sweep")
    for worker, deleted in sorted(run.crashed.items()):
        terminalreporter.write_line(
            f"worker {worker} crashed: deleted the {len(deleted)} session(s) it left: "
            + (", ".join(deleted) or "none")
        )
    for session_id in sorted(run.tracker.kept):
        terminalreporter.write_line(
            f"kept session {session_id} (a test using it failed): "
            + run.backend.reach_hint(session_id)
        )


def pytest_unconfigure(config: pytest.Config) -> None:
    if RUN_KEY in config.stash:
        get_run(config).close()
