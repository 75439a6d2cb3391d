"""Record and replay in a pytest run: which cassette each test and each wider fixture scope
uses, and the hooks that open, switch and save them.

A test's cassette is in use from its setup to its teardown. While a class-, module-, package-
or session-scoped fixture sets up or tears down, its scope's cassette is in use instead, so
that traffic is recorded once and replayed for every test that uses the fixture.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Generator
from typing import Any

import pytest

from ..cassette import paths
from ..cassette.deck import Deck
from ..cassette.errors import CassetteError, NoMatch
from ..cassette.scrub import Scrubber
from ..cassette.tape import Tape
from .markers import MARKER
from .options import setting
from .replay import REPLAY_KEY, ReplayBackend
from .run import Run
from .settings import shown

MISSING = pytest.StashKey[str]()


def configure(config: pytest.Config, run: Run) -> None:
    """Register the record/replay hooks, if this run's settings say it uses cassettes."""
    if run.settings.cassettes is not None:
        config.pluginmanager.register(Recorder(config, run), "agentbay-cassettes")


def keep_apart(config: pytest.Config) -> None:
    """Before an AgentBay test: when another vcrpy user may record it (pytest-recording, or
    code that imported vcrpy), keep AgentBay API calls out of its cassettes for the run."""
    if "vcr" not in sys.modules and not config.pluginmanager.hasplugin("recording"):
        return
    from .cassettes import GUARD

    if not GUARD.installed:
        GUARD.install()
        config.add_cleanup(GUARD.uninstall)


def _uses_agentbay(item: pytest.Item) -> bool:
    return item.get_closest_marker(MARKER) is not None


class Recorder:
    """The pytest hooks of record/replay (registered only in runs that use cassettes)."""

    def __init__(self, config: pytest.Config, run: Run) -> None:
        cassettes = run.settings.cassettes
        assert cassettes is not None
        self.config, self.run = config, run
        self.record_mode, self.directory = cassettes.mode, cassettes.directory
        self.require, self.replaying = cassettes.require, cassettes.replaying
        self.deck = Deck(Scrubber(run.tracker.secrets | {REPLAY_KEY}))
        for pattern in setting(config, "agentbay_volatile") or []:
            try:
                self.deck.volatile(pattern, whole_run=True)
            except ValueError as error:
                raise pytest.UsageError(f"agentbay_volatile: {error}") from None
        self.loose = 0  # requests replayed despite random-looking values, for the summary
        if isinstance(run.backend, ReplayBackend):
            self.deck.before_request = run.backend.virtualize_sdk
            run.backend.deck = self.deck  # our clients' replies come from the deck directly
        self._patches: contextlib.ExitStack | None = None
        cache = getattr(config, "cache", None)  # None with -p no:cacheprovider
        self.cache = cache.mkdir("agentbay-cassettes") if cache is not None else None
        self._scopes: dict[str, Tape] = {}
        self._test: Tape | None = None

    def _open(self, name: str) -> Tape:
        path = self.directory / name
        try:
            return Tape(path, shown(self.config, path), name, self.record_mode, self.cache)
        except CassetteError as error:
            pytest.fail(str(error), pytrace=False)
        except OSError as error:  # e.g. a file where the cassette directory should be
            pytest.fail(_unwritable(shown(self.config, path), error), pytrace=False)

    def _use(self, tape: Tape) -> None:
        if self._patches is None:
            from .cassettes import install  # vcrpy is imported only by runs that use cassettes

            self._patches = install(self.deck)
        self.deck.enter(tape)

    def pytest_report_header(self) -> list[str]:
        where = shown(self.config, self.directory)
        if self.replaying:
            return [f"agentbay cassettes: replaying from {where}"]
        return [f"agentbay cassettes: record mode {self.record_mode}, in {where}"]

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Without --agentbay, a test with no cassette is skipped (or fails, if required)."""
        using = list(filter(_uses_agentbay, items))
        if using:
            # vcrpy (and the HTTP libraries it patches) is imported here, once, instead of in
            # the first AgentBay test, whose duration would show it as that test's time.
            from . import cassettes  # noqa: F401
        if not self.replaying:
            return
        for item in using:
            name = paths.test_cassette(item.nodeid)
            if (self.directory / name).is_file():
                continue
            item.stash[MISSING] = (
                f"no cassette {shown(self.config, self.directory / name)}: record it with "
                f"`pytest --agentbay --agentbay-record-mode=once {item.nodeid}`"
            )
            if not self.require:
                item.add_marker(pytest.mark.skip(reason=item.stash[MISSING]))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        if MISSING in item.stash and self.require:
            pytest.fail(f"{item.stash[MISSING]} (--agentbay-require-cassettes)", pytrace=False)
        if _uses_agentbay(item) and MISSING not in item.stash:  # (else the skip marker acts)
            if isinstance(self.run.backend, ReplayBackend):
                self.run.backend.enter_test()
            self._test = self._open(paths.test_cassette(item.nodeid))
            self._use(self._test)
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, None, None]:
        try:
            return (yield)
        finally:
            test, self._test = self._test, None
            if test is not None:
                self.deck.leave(test)
            self.deck.end_test()
            if isinstance(self.run.backend, ReplayBackend):
                self.run.backend.leave_test()
            self._save(test)
            if test is not None and test.must_play_all and test.all_played_problem():
                pytest.fail(test.all_played_problem(), pytrace=False)

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(
        self, fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
    ) -> Generator[None, Any, Any]:
        """A wider-scoped fixture records into (and replays from) its scope's cassette, while
        it sets up and while it tears down."""
        if fixturedef.scope == "function" or self._test is None:
            return (yield)
        name = paths.scope_cassette(fixturedef.scope, request.node.nodeid)
        if name not in self._scopes:
            self._scopes[name] = self._open(name)
        tape = self._scopes[name]
        in_use: list[Tape] = []

        def enter() -> None:
            self._use(tape)
            in_use.append(tape)

        def leave() -> None:
            while in_use:
                self.deck.leave(in_use.pop())

        # Finalizers run last-in first-out: `leave` (added now) runs after the fixture's
        # teardown, `enter` (added once its setup is done) before it.
        fixturedef.addfinalizer(leave)
        self._use(tape)
        try:
            result = yield
        finally:
            self.deck.leave(tape)
        fixturedef.addfinalizer(enter)
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """A miss the code under test swallowed (the official SDK turns errors into results)
        still fails the test."""
        report = yield
        loose = self.deck.take_loose()
        if loose:  # replayed, but people should know how loosely
            report.sections.append(("agentbay cassette: replayed loosely", "\n".join(loose)))
            self.loose += sum("look random" in line for line in loose)
        misses = self.deck.take_misses()
        if call.excinfo is not None and isinstance(call.excinfo.value, NoMatch):
            report.longrepr = _short(item, call.excinfo)  # not the HTTP libraries' frames
        elif misses and report.passed:
            report.outcome = "failed"
            report.longrepr = "\n".join(misses)
        elif misses:
            report.sections.append(("agentbay cassette", "\n".join(misses)))
        return report

    def _save(self, test: Tape | None) -> None:
        """Write the test's cassette (even empty: it says "replay me") and any scope cassette
        with new traffic; a refused write errors the test and is not retried."""
        tapes = [t for t in self._scopes.values() if t.dirty]
        if test is not None and test.mode != "replay":
            tapes.insert(0, test)
        problems = []
        for tape in tapes:
            try:
                tape.save(sorted(self.run.tracker.secrets))
            except CassetteError as error:
                tape.recorded = []
                problems.append(str(error))
            except OSError as error:  # a read-only or full directory: say which and what to do
                tape.recorded = []
                problems.append(_unwritable(tape.label, error))
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.loose:
            terminalreporter.write_line(
                f"agentbay cassettes: {self.loose} request(s) replayed although they differ from"
                " the recording in values that look random (see each test's 'agentbay cassette'"
                " section with -rA; declare such parts with agentbay_volatile to say they may)"
            )

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        """Fixtures torn down outside a test (an interrupted run) still get their cassettes
        written; then the HTTP libraries are unpatched."""
        try:
            self._save(None)
        except pytest.fail.Exception as error:
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(f"agentbay cassettes: {error}", red=True)
        finally:
            if self._patches is not None:
                self._patches.close()
                self._patches = None


def _unwritable(label: str, error: OSError) -> str:
    return (
        f"cannot use cassette {label}: {error.strerror or error}; make its directory "
        "writable, or point --agentbay-cassette-dir elsewhere"
    )


def _short(item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """The miss, and the line of the test that sent the request."""
    path = getattr(item, "path", None)
    lines = [entry for entry in excinfo.traceback if entry.path == path]
    where = f"{path.name}:{lines[-1].lineno + 1}: " if lines and path is not None else ""
    return f"{where}{excinfo.value}"
