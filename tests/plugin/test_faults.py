"""Never hang, never leak: quota deadlines, creates whose reply is lost, reaping beside live
runs, run ids across shards, and the smaller faults a CI run meets. Every run here must end
within a bound and leave the backend with no session alive."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from pytest_agentbay import AgentBay, Config, CreateSessionParams

from .conftest import KEY, QUIET, Backend, run, run_subprocess
from .test_signals import ready, start, wait_for

BOUND_S = 20.0


def _timed(call: object) -> tuple[pytest.RunResult, float]:
    started = time.monotonic()
    result = call()  # type: ignore[operator]
    return result, time.monotonic() - started


def _own_session(backend: Backend, **labels: str) -> str:
    with AgentBay(KEY, Config(backend.url)) as client:
        made = client.create(CreateSessionParams(labels=labels))
        assert made.session is not None
        return made.session.session_id


# -- quota: every wait has a deadline ---------------------------------------------------------


def test_a_test_needing_more_sessions_than_the_cap_fails_at_once(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makepyfile(
        """
        def test_two_at_once(agentbay_session_factory):
            agentbay_session_factory()
            agentbay_session_factory()
        """
    )
    result, took = _timed(lambda: run(inner, "--agentbay-max-sessions=1"))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*test_two_at_once needs more than --agentbay-max-sessions=1 session(s) at once*"]
    )
    assert took < BOUND_S
    assert backend.live() == []


MODULE_PLUS_OWN = """
def test_module_only(agentbay_module_session):
    pass

def test_module_and_own(agentbay_module_session, agentbay_session):
    pass
"""


def test_workers_holding_every_slot_and_waiting_give_up_at_the_deadline(
    inner: pytest.Pytester, backend: Backend
) -> None:
    """Two workers each hold a module session and wait for a second: a deadlock under a cap
    of 2, which the quota deadline ends with an error naming the options."""
    inner.makepyfile(test_a=MODULE_PLUS_OWN, test_b=MODULE_PLUS_OWN)
    args = ("-n", "2", "--agentbay-max-sessions=2", "--agentbay-quota-timeout=1")
    result, took = _timed(lambda: run_subprocess(inner, *args))
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 2
    if outcomes.get("error") or outcomes.get("errors"):  # the scheduler may avoid the deadlock
        result.stdout.fnmatch_lines(
            ["*gave up at --agentbay-quota-timeout=1; raise either option*"]
        )
    assert took < BOUND_S + 10  # xdist's start-up included
    assert backend.live() == []


COMBINATIONS = """
import pytest

class TestClass:
    def test_class_and_own(self, agentbay_class_session, agentbay_session):
        pass

def test_module_and_factory(agentbay_module_session, agentbay_session_factory):
    agentbay_session_factory()

def test_shared_and_own(agentbay_shared_session, agentbay_session):
    pass

async def test_async_pair(async_agentbay_session, async_agentbay_session_factory):
    await async_agentbay_session_factory()
"""


@pytest.mark.parametrize(
    "workers, cap",
    [(0, 1), (0, 2), (0, 4), (2, 1), (2, 2), (2, 4)],
)
def test_no_mix_of_scopes_workers_and_caps_waits_forever(
    inner: pytest.Pytester, backend: Backend, workers: int, cap: int
) -> None:
    """Every wait is bounded: a test needing more than the cap alone fails at once; tests
    waiting on each other give up at the quota deadline; the rest pass."""
    inner.makepyfile(test_mix=COMBINATIONS)
    args = [f"--agentbay-max-sessions={cap}", "--agentbay-quota-timeout=1", "-o"]
    args += ["asyncio_mode=auto"]
    if workers:
        args += ["-n", str(workers)]
    result, took = _timed(lambda: run_subprocess(inner, *args))
    outcomes = result.parseoutcomes()
    assert sum(outcomes.get(k, 0) for k in ("passed", "failed", "error", "errors")) == 4
    assert took < BOUND_S + 10
    assert backend.live() == []
    if cap >= 4:  # the shared, module, async and factory sessions of the last test at once
        assert outcomes.get("passed") == 4, result.stdout.str()


def _quota_held_by_another_shard(backend: Backend, inner: pytest.Pytester, seconds: float) -> None:
    """The account's only session is held by another machine's shard for `seconds`; the inner
    run's one test needs a session."""
    backend.emulator.set_quota(1)
    other = _own_session(backend, team="another-shard")
    inner.makepyfile("def test_needs_one(agentbay_session):\n    pass\n")

    def free_later() -> None:
        time.sleep(seconds)
        with AgentBay(KEY, Config(backend.url)) as client:
            client.delete(other)

    threading.Thread(target=free_later).start()


def test_a_service_quota_error_waits_with_backoff_until_a_session_frees(
    inner: pytest.Pytester, backend: Backend
) -> None:
    """Another machine's shard holds the account's only session; ours waits for it."""
    _quota_held_by_another_shard(backend, inner, seconds=1.0)
    result, took = _timed(lambda: run(inner, "--agentbay-quota-timeout=15"))
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["waited for quota: *.? s in all*the service refusing*"])
    assert backend.emulator.requests["CreateMcpSession"] >= 3  # refused, retried, made
    assert took < BOUND_S
    assert backend.live() == []


def test_a_long_wait_for_quota_is_said_as_it_happens(
    inner: pytest.Pytester, backend: Backend
) -> None:
    """A wait of up to --agentbay-quota-timeout must not look like a hang."""
    _quota_held_by_another_shard(backend, inner, seconds=3.0)  # past the notice's 2 s
    result = run(inner, "--agentbay-quota-timeout=30")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "agentbay: * is waiting for quota (the service refuses creates for its quota); it "
            "gives up after --agentbay-quota-timeout=30 s",
            "*1 passed*",
        ]
    )
    assert result.stdout.str().count("is waiting for quota") == 1  # said once, not per retry


def test_a_service_quota_error_gives_up_at_the_deadline_naming_the_option(
    inner: pytest.Pytester, backend: Backend
) -> None:
    backend.emulator.set_quota(0)
    inner.makepyfile("def test_needs_one(agentbay_session):\n    pass\n")
    result, took = _timed(lambda: run(inner, "--agentbay-quota-timeout=0.5"))
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*still refused after waiting --agentbay-quota-timeout=0.5 s*",
            "*= agentbay =*",
            "sessions: 0 created, *",
            "waited for quota: 0.? s in all*",
        ]
    )
    assert took < BOUND_S


def test_retries_of_several_processes_do_not_run_in_lockstep() -> None:
    from pytest_agentbay.plugin.guard import jittered
    from pytest_agentbay.protocol.calls import RetryPolicy

    assert len({round(jittered(0.5, 3, 8.0), 6) for _ in range(20)}) > 10
    policy = RetryPolicy()
    delays = {round(policy.delay(2), 6) for _ in range(20)}
    assert len(delays) > 10 and max(delays) <= policy.max_delay


# -- creates in flight: a lost reply is not a lost session ------------------------------------


def test_a_create_that_times_out_but_completes_is_found_and_deleted(
    inner: pytest.Pytester, backend: Backend
) -> None:
    backend.emulator.set_latency("CreateMcpSession", 1.0)
    inner.makepyfile("def test_slow_create(agentbay_session):\n    pass\n")
    result, took = _timed(lambda: run(inner, "--agentbay-timeout=0.4"))
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ReadTimeout*"])
    assert took < 10.0  # not the default 60 s per request
    assert backend.creates() == 1
    assert len(backend.sessions()) == 1  # the server made it after the client gave up
    assert backend.live() == []
    result.stdout.fnmatch_lines(["orphan session * (its create's reply was lost): *deleted"])


@pytest.mark.parametrize(
    "how",
    [("--agentbay-timeout=0.4",), ("-o", "agentbay_timeout=0.4"), ("env",)],
)
def test_the_request_timeout_reaches_every_client_the_plugin_makes(
    inner: pytest.Pytester, backend: Backend, monkeypatch: pytest.MonkeyPatch, how: tuple[str]
) -> None:
    if how == ("env",):
        monkeypatch.setenv("AGENTBAY_TIMEOUT", "0.4")
        how = ()  # type: ignore[assignment]
    backend.emulator.set_latency("CreateMcpSession", 1.0)
    inner.makepyfile(
        """
        async def test_async(async_agentbay_session):
            pass
        """
    )
    result, took = _timed(lambda: run(inner, *how, "-o", "asyncio_mode=auto"))
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ReadTimeout*"])
    assert took < 10.0
    assert backend.live() == []


def test_bad_timeouts_are_refused(inner: pytest.Pytester) -> None:
    for flag in ("--agentbay-timeout=0", "--agentbay-quota-timeout=-1"):
        result = inner.runpytest("--agentbay", flag, *QUIET)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"*{flag.split('=')[0]} must be *"])


# -- reaping never touches a live run -------------------------------------------------------


def test_reap_beside_a_live_run_leaves_it_alone(inner: pytest.Pytester, backend: Backend) -> None:
    inner.makepyfile(
        test_live="""
        import os, pathlib, time

        def test_long(agentbay_session):
            ready = pathlib.Path(os.environ["READY_DIR"])
            (ready / "holds").touch()
            while not (ready / "go").exists():
                time.sleep(0.05)
            assert agentbay_session.command.execute_command("true").success
        """
    )
    process = start(inner)
    wait_for(lambda: ready(inner, 1), "the live run's test to start")
    reaped = inner.runpytest("--agentbay-backend=cloud", "--agentbay-reap", "--agentbay-reap-age=0")
    assert reaped.ret == 0
    reaped.stdout.fnmatch_lines(["agentbay reap: 0 deleted, 1 of live runs *"])
    Path(inner.path, "go").touch()
    out, _ = process.communicate(timeout=BOUND_S)
    assert process.returncode == 0, out
    assert "sessions: 1 created, 0 reused, 1 deleted, 0 leaked" in out
    assert backend.live() == []


def test_a_live_run_refreshes_its_heartbeat(inner: pytest.Pytester, backend: Backend) -> None:
    inner.makepyfile("import time\n\ndef test_long(agentbay_session):\n    time.sleep(1.6)\n")
    result = run(inner, "--agentbay-session-expiry=4")  # a refresh every second
    result.assert_outcomes(passed=1)
    assert backend.emulator.requests["SetLabel"] >= 1
    assert backend.live() == []


def test_kept_sessions_are_reaped_right_after_their_run(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makepyfile("def test_fails(agentbay_session):\n    assert False\n")
    run(inner, "--agentbay-keep-on-failure").assert_outcomes(failed=1)
    assert len(backend.live()) == 1
    reaped = inner.runpytest("--agentbay-backend=cloud", "--agentbay-reap", "--agentbay-reap-age=0")
    reaped.stdout.fnmatch_lines(["agentbay reap: 1 deleted, 0 of live runs *"])
    assert backend.live() == []


def test_negative_reap_age_is_refused(inner: pytest.Pytester) -> None:
    result = inner.runpytest("--agentbay-reap", "--agentbay-reap-age=-5", *QUIET)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--agentbay-reap-age must be 0 or more, got -5*"])


# -- run ids across shards ---------------------------------------------------------------------


def test_shards_share_a_run_id_and_a_final_job_reaps_exactly_that_run(
    inner: pytest.Pytester, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = {"pytest-agentbay.owner": "pytest-agentbay"}
    other_shard = _own_session(
        backend, **owner, **{"pytest-agentbay.run": "ci-42", "pytest-agentbay.shard": "elsewhere"}
    )
    other_run = _own_session(backend, **owner, **{"pytest-agentbay.run": "ci-41"})
    inner.makepyfile("def test_fails(agentbay_session):\n    assert False\n")
    monkeypatch.setenv("AGENTBAY_RUN_ID", "ci-42")
    run(inner, "--agentbay-keep-on-failure").assert_outcomes(failed=1)
    alive = {s.session_id for s in backend.live()}
    assert {other_shard, other_run} < alive  # our sweep left the other shard's session
    kept = alive - {other_shard, other_run}
    assert [backend.emulator.store.sessions[k].labels["pytest-agentbay.run"] for k in kept] == [
        "ci-42"
    ]
    reaped = inner.runpytest("--agentbay-backend=cloud", "--agentbay-reap", *QUIET)
    reaped.stdout.fnmatch_lines(["agentbay reap: 2 deleted of run ci-42 *"])
    assert {s.session_id for s in backend.live()} == {other_run}


def test_a_malformed_run_id_is_refused(inner: pytest.Pytester) -> None:
    result = inner.runpytest("--agentbay", "--agentbay-run-id=no spaces", *QUIET)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--agentbay-run-id (AGENTBAY_RUN_ID) must be *"])
