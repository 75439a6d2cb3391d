"""pytest entry point (`pytest11: agentbay`): options, markers, backend lifecycle and reporting."""

from __future__ import annotations

import signal
from collections.abc import Generator
from dataclasses import asdict
from typing import Any

import pytest

# Only what registering options, markers and fixtures needs: the client, the backends, pydantic
# and the cassette machinery are imported on first real use (see run.py), so that a pytest run
# without AgentBay tests pays nothing for this plugin.
from . import options
from .markers import MARKER, MARKER_HELP, validate
from .run import FAILED_KEY, RUN_KEY, SETTINGS_KEY, USED_KEY, Run, active_run, start_run
from .scopes import NAMES, used_by
from .settings import NEEDS_AGENTBAY, Settings, read_settings
from .signals import Signals

pytest_plugins = [  # plugins of their own: fixtures, what teams customise, CI reports
    "pytest_agentbay.plugin.fixtures",
    "pytest_agentbay.plugin.extensions",
    "pytest_agentbay.plugin.artifacts",
]
VALIDATED_KEY = pytest.StashKey[bool]()  # every collected test's markers were checked
REAPED_KEY = pytest.StashKey[int]()  # --agentbay-reap: its exit code
SIGNALS_KEY = pytest.StashKey[Signals]()


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)  # "agentbay(...): ..." like pytest's own
    settings = config.stash[SETTINGS_KEY] = read_settings(config)
    if not settings.active:  # no run state: nothing is imported, started or created
        return
    run = config.stash[RUN_KEY] = start_run(config, settings)
    if config.pluginmanager.hasplugin("xdist") and run.settings.reap:
        config.option.dist = "no"  # one process reaps: xdist (configured after us) starts none
    elif config.pluginmanager.hasplugin("xdist"):
        from .xdist import XdistHooks

        config.pluginmanager.register(XdistHooks(run), "agentbay-xdist")
    if run.settings.cassettes is not None:  # record in live runs, replay without
        from . import recording

        recording.configure(config, run)
    if run.backend is not None and run.settings.live:  # sessions to clean up on SIGTERM
        signals = config.stash[SIGNALS_KEY] = Signals(run)
        signals.install()
        config.pluginmanager.register(signals, "agentbay-signals")


def _settings(config: pytest.Config) -> Settings:
    return config.stash[SETTINGS_KEY]


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> bool | None:
    """--agentbay-reap collects nothing: the run reaps instead of running tests."""
    return True if _settings(session.config).reap else None


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """--agentbay-reap: delete this plugin's old sessions, in place of the test loop."""
    if not _settings(session.config).reap:
        return None
    from .reap import reap

    session.config.stash[REAPED_KEY] = reap(session.config)
    return True


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings, run = _settings(config), active_run(config)
    if settings.reap:
        return ["agentbay: reaping old sessions (no tests run)"]
    if settings.discovery and (settings.live or settings.cassettes is not None):
        return ["agentbay: listing tests only (no backend started, no session created)"]
    if run is None or run.backend is None:
        return ["agentbay: off (tests that need AgentBay are skipped; run with --agentbay)"]
    image = options.setting(config, "agentbay_image")
    return [f"agentbay: {run.backend.describe()}, default image: {image}"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests that use AgentBay, check their markers, and skip them without --agentbay."""
    settings, run = _settings(config), active_run(config)
    skip = pytest.mark.skip(reason=NEEDS_AGENTBAY)
    for item in items:
        uses = NAMES.intersection(getattr(item, "fixturenames", ()))
        if not uses and item.get_closest_marker(MARKER) is None:
            continue
        validate(item)
        if uses and item.get_closest_marker(MARKER) is None:
            item.add_marker(MARKER)
        if not settings.enabled:
            item.add_marker(skip)
    config.stash[VALIDATED_KEY] = True
    if run is not None and settings.is_worker and settings.enabled:  # for the scheduler
        from .xdist import groups_of

        run.fleet.write_groups(run.tracker.worker, groups_of(items))


@pytest.hookimpl(tryfirst=True)  # before xdist tells the controller collection is done
def pytest_collection_finish(session: pytest.Session) -> None:
    """Plan the sessions the collected tests need, to create them ahead of time."""
    run = active_run(session.config)
    if run is None:  # listing tests only (--collect-only, --setup-plan), or AgentBay unused
        return
    settings = run.settings
    # pytest calls this hook even when collection failed (a malformed marker): plan nothing then
    if (
        settings.plans
        and session.config.stash.get(VALIDATED_KEY, False)
        and any(use.ahead for item in session.items for use in used_by(item))
    ):  # (a run whose tests take no session imports no planner, client or pydantic)
        from .planner import plan_of

        by_size = settings.is_worker and settings.shard
        plan = plan_of(session.items, run.leases.plan_params, by_size)
        if settings.is_worker:
            run.fleet.write_plan(run.tracker.worker, plan)
        else:
            run.leases.start_planner(plan)


def pytest_runtest_setup(item: pytest.Item) -> None:
    run = active_run(item.config)
    if run is None:
        return
    run.tracker.current = item.nodeid
    if run.backend is not None and item.get_closest_marker(MARKER) is not None:
        run.backend.start()  # the local backend, on first use: before the test's fixtures
        from . import recording

        recording.keep_apart(item.config)  # out of pytest-recording's cassettes


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    run = active_run(item.config)
    if run is None or run.backend is None:
        return report
    sessions = [
        value
        for name, value in getattr(item, "funcargs", {}).items()
        if name in NAMES and hasattr(value, "session_id")
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
        run.leases.failed_sessions.add(session.session_id)
        if not any(u["session_id"] == session.session_id for u in used):
            used.append({"session_id": session.session_id, "image": session.image_id, "labels": {}})
    report.sections.append(
        ("agentbay", run.tracker.report(item.nodeid, run.backend.describe(), used))
    )
    return report


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """After every fixture's teardown: delete whatever this process left alive."""
    if REAPED_KEY in session.config.stash:  # the reap's outcome, not "no tests collected"
        session.exitstatus = session.config.stash[REAPED_KEY]
    run = active_run(session.config)
    if run is None:
        return
    if run.settings.uses_xdist and not run.settings.is_worker:
        run.merge_unsent_stats()  # workers an interrupt kept from reporting
    _sweep(run, session)
    if run.settings.is_worker:
        stats = asdict(run.tracker.stats)
        session.config.workeroutput["agentbay_stats"] = stats  # type: ignore[attr-defined]
        run.fleet.write_stats(run.tracker.worker, stats)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    run = active_run(config)
    if run is None:
        return
    stats = run.tracker.stats
    signals = config.stash.get(SIGNALS_KEY, None)
    stopped = signals.received if signals is not None else 0
    orphans = run.tracker.orphans
    local = run.backend.summary() if run.backend is not None else ""
    busy = (
        stats.created
        or stats.reused
        or stats.quota_wait_seconds
        or run.leaked
        or run.crashed
        or stopped
        or orphans
    )
    if run.backend is None or not (busy or local):
        return
    terminalreporter.write_sep("=", "agentbay")  # (ends the progress line first)
    if local:
        terminalreporter.write_line(local)
    if stopped:
        name = signal.Signals(stopped).name
        terminalreporter.write_line(
            f"{name} received: stopped starting tests, deleted the sessions the run held "
            f"(exit status {128 + stopped})"
        )
    for session_id in orphans:
        terminalreporter.write_line(
            f"orphan session {session_id} (its create's reply was lost): found by its labels "
            "and deleted"
        )
    for line in run.tracker.stats.lines() if busy else []:
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
    run = active_run(config)
    if run is not None and not run.swept:
        _late_sweep(config, run)
    if SIGNALS_KEY in config.stash:
        config.stash[SIGNALS_KEY].restore()
    if run is not None:
        run.close()


def _sweep(run: Run, session: pytest.Session | None) -> None:
    """The end-of-run sweep; after a signal, the exit status shells give a process it ended."""
    run.leaked, run.swept = run.sweep(), True
    signals = run.config.stash.get(SIGNALS_KEY, None)
    if session is not None and signals is not None and signals.exit_status is not None:
        session.exitstatus = signals.exit_status


def _late_sweep(config: pytest.Config, run: Run) -> None:
    """The session never finished: an interrupt (Ctrl-C, a signal) came while it started,
    e.g. while xdist started its workers and sessions made ahead of time were on their way.
    pytest then skips pytest_sessionfinish: sweep here, say so, and set the exit status."""
    _sweep(run, config.pluginmanager.get_plugin("session"))  # (its status is returned after)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        pytest_terminal_summary(reporter, config)  # (pytest's own summary was skipped too)
