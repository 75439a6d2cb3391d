"""Nothing is lost: the end-of-run sweep, `--agentbay-reap`, keep-on-failure, and Ctrl-C."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pytest_agentbay import AgentBay, Config, CreateSessionParams

from .conftest import KEY, QUIET, Backend, run, run_interrupted, run_subprocess


def _own_session(backend: Backend, **labels: str) -> str:
    """A session made outside the inner run, straight on the backend."""
    with AgentBay(KEY, Config(backend.url)) as client:
        result = client.create(CreateSessionParams(labels=labels))
        assert result.session is not None
        return result.session.session_id


def _alive(backend: Backend) -> set[str]:
    return {s.session_id for s in backend.live()}


def test_sweep_deletes_the_runs_leaked_sessions_and_reports_them(
    inner: pytest.Pytester, backend: Backend
) -> None:
    other_run = _own_session(
        backend, **{"pytest-agentbay.owner": "pytest-agentbay", "pytest-agentbay.run": "other"}
    )
    inner.makepyfile(
        test_leak="""
        from pytest_agentbay import AgentBay, CreateSessionParams

        def test_forgets_to_delete(agentbay_client):
            agentbay_client.create()  # through the plugin's client, never deleted

        def test_own_client_with_the_runs_labels(agentbay_session):
            labels = agentbay_session.get_labels().data  # they carry the run's id
            with AgentBay() as own:  # from AGENTBAY_ENDPOINT / AGENTBAY_API_KEY
                assert own.create(CreateSessionParams(labels=labels)).success
        """
    )
    result = run(inner)
    result.assert_outcomes(passed=2)
    assert _alive(backend) == {other_run}  # another run's session is not this run's to sweep
    # the fixture's own session is deleted at its teardown, before the sweep
    fixture_session = next(sid for action, sid, _ in backend.emulator.events if action == "delete")
    leaked = {s.session_id for s in backend.sessions()} - {other_run, fixture_session}
    assert len(leaked) == 2
    result.stdout.fnmatch_lines(["sessions: 2 created, 0 reused, 2 deleted, 2 leaked"])
    for session_id in leaked:
        result.stdout.fnmatch_lines(
            [f"leaked session {session_id}: deleted by the end-of-run sweep"]
        )


def _reap_fixture(backend: Backend) -> dict[str, str]:
    owner = {"pytest-agentbay.owner": "pytest-agentbay"}
    old = str(int(time.time()) - 7200)
    young = str(int(time.time()) - 10)
    return {
        "old": _own_session(backend, **owner, **{"pytest-agentbay.created": old}),
        "young": _own_session(backend, **owner, **{"pytest-agentbay.created": young}),
        "undated": _own_session(backend, **owner),
        "foreign": _own_session(backend, team="someone-else", **{"pytest-agentbay.created": old}),
    }


@pytest.mark.parametrize(
    "how",
    [
        ["--agentbay-reap", "--agentbay-reap-age=60"],
        ["--agentbay-reap", "-o", "agentbay_reap_age=60"],
    ],
)
def test_reap_deletes_old_sessions_of_this_plugin_only(
    inner: pytest.Pytester, backend: Backend, how: list[str]
) -> None:
    made = _reap_fixture(backend)
    inner.makepyfile("def test_never_runs():\n    raise AssertionError\n")
    result = inner.runpytest("--agentbay-backend=cloud", *how, *QUIET)
    assert result.ret == 0
    assert _alive(backend) == {made["young"], made["foreign"]}
    result.stdout.fnmatch_lines(
        [
            f"agentbay reap: deleted {made['old']} (age * s)",
            f"agentbay reap: deleted {made['undated']} (age * s)",
            "agentbay reap: 2 deleted, 1 of live runs or younger than 60 s kept (cloud backend)",
        ],
        consecutive=False,
    )
    assert "test_never_runs" not in result.stdout.str()


def test_reap_default_age_is_the_session_expiry(inner: pytest.Pytester, backend: Backend) -> None:
    made = _reap_fixture(backend)
    result = inner.runpytest("--agentbay-backend=cloud", "--agentbay-reap", *QUIET)
    assert result.ret == 0
    assert _alive(backend) == {made["young"], made["foreign"]}
    result.stdout.fnmatch_lines(
        ["agentbay reap: 2 deleted, 1 of live runs or younger than 1800 s kept *"]
    )


def test_reap_under_xdist_reaps_once_and_starts_no_workers(
    inner: pytest.Pytester, backend: Backend
) -> None:
    made = _reap_fixture(backend)
    result = run_subprocess(inner, "-n", "2", "--agentbay-reap")
    assert result.ret == 0
    assert _alive(backend) == {made["young"], made["foreign"]}
    result.stdout.fnmatch_lines(
        ["agentbay reap: 2 deleted, 1 of live runs or younger than 1800 s kept *"]
    )
    result.stdout.no_fnmatch_line("created: * workers")


def test_reap_on_the_cloud_without_a_key_is_a_usage_error(inner: pytest.Pytester) -> None:
    result = inner.runpytest("--agentbay-backend=cloud", "--agentbay-reap", *QUIET)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*needs an API key*"])


KEEP = """
def test_fails(agentbay_session):
    agentbay_session.command.execute_command("echo debug me")
    assert False

def test_passes(agentbay_session):
    pass

class TestShared:
    def test_fails_on_class_session(self, agentbay_class_session):
        assert False

def test_factory_fails(agentbay_session_factory):
    agentbay_session_factory()
    assert False
"""


@pytest.mark.parametrize(
    "how", [["--agentbay-keep-on-failure"], ["-o", "agentbay_keep_on_failure=true"]]
)
def test_keep_on_failure_keeps_failed_sessions_and_says_how_to_reach_them(
    inner: pytest.Pytester, backend: Backend, how: list[str]
) -> None:
    inner.makepyfile(test_keep=KEEP)
    result = run(inner, *how)
    result.assert_outcomes(passed=1, failed=3)
    kept = _alive(backend)
    assert len(kept) == 3
    passed_session = backend.created_for("test_keep.py::test_passes")
    assert passed_session and passed_session[0].session_id not in kept
    result.stdout.fnmatch_lines(["sessions: 4 created, 0 reused, 1 deleted, 0 leaked, 3 kept*"])
    for session_id in kept:
        result.stdout.fnmatch_lines(
            [
                f"kept session {session_id} (a test using it failed): AgentBay(cfg=Config("
                f"'{backend.url}')).get('{session_id}') with your AGENTBAY_API_KEY; *"
            ]
        )


def test_keep_on_failure_on_the_local_backend_explains_the_session_ends_with_the_run(
    inner: pytest.Pytester,
) -> None:
    inner.makepyfile("def test_fails(agentbay_session):\n    assert False\n")
    result = inner.runpytest("--agentbay", "--agentbay-keep-on-failure", *QUIET)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["kept session * (a test using it failed): the local backend stops with this run; *"]
    )


def test_without_keep_on_failure_failed_sessions_are_deleted(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makepyfile(test_keep=KEEP)
    result = run(inner)
    result.assert_outcomes(passed=1, failed=3)
    assert backend.live() == []
    assert "kept session" not in result.stdout.str()


INTERRUPTED = """
import os
import signal

def test_first(agentbay_shared_session, agentbay_module_session, agentbay_session):
    pass

class TestInterrupted:
    def test_interrupted(self, agentbay_class_session, agentbay_session_factory, agentbay_session):
        agentbay_session_factory()
        agentbay_session_factory()
        {interrupt}

def test_never_runs(agentbay_session):
    pass
"""


@pytest.mark.parametrize(
    "interrupt",
    [
        # a test that sends a signal sets its handling itself: a shell running the suite in
        # the background (nohup, some CI runners) starts it with SIGINT ignored
        "signal.signal(signal.SIGINT, signal.default_int_handler); "
        "os.kill(os.getpid(), signal.SIGINT)",
        "raise KeyboardInterrupt",
    ],
)
def test_ctrl_c_in_the_middle_of_a_run_leaves_no_session_alive(
    inner: pytest.Pytester, backend: Backend, interrupt: str
) -> None:
    inner.makepyfile(
        test_int=INTERRUPTED.format(interrupt=interrupt),
        test_later="def test_later(agentbay_session):\n    pass\n",
    )
    runner = run_subprocess if "signal" in interrupt else run_interrupted
    result = runner(inner)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*KeyboardInterrupt*"])
    # shared, module, 2 function, class and 2 from the factory (more if made ahead of time)
    assert backend.creates() >= 7
    assert backend.live() == []


def test_ctrl_c_in_an_async_test_leaves_no_session_alive(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makepyfile(
        """
        async def test_interrupted(async_agentbay_session, async_agentbay_module_session,
                                   async_agentbay_session_factory):
            await async_agentbay_session_factory()
            raise KeyboardInterrupt
        """
    )
    result = run_interrupted(inner, "-o", "asyncio_mode=auto")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert backend.creates() == 3
    assert backend.live() == []


def test_examples_pass_and_leave_no_session_alive(
    inner: pytest.Pytester, backend: Backend, pytestconfig: pytest.Config
) -> None:
    for example in sorted(Path(pytestconfig.rootpath, "examples").glob("test_*.py")):
        inner.copy_example(example.name)
    result = run(inner, "-o", "asyncio_mode=strict")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 10
    assert not outcomes.get("failed") and not outcomes.get("error") and not outcomes.get("errors")
    assert backend.creates() >= 10
    assert backend.live() == []
