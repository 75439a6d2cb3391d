"""Every fixture: what it gives, the scope of its session, and when the session is deleted."""

from __future__ import annotations

import pytest

from .conftest import KEY, QUIET, Backend, run


def _shell(tag: str, fixture: str) -> str:
    return f"""
def test_{tag}({fixture}):
    assert {fixture}.command.execute_command("echo {tag}").success
"""


def test_function_session_is_made_and_deleted_around_each_test(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makepyfile(
        test_a=_shell("a1", "agentbay_session")
        + _shell("a2", "agentbay_session")
        + "\ndef test_a3(agentbay_session):\n    assert False\n"
    )
    result = run(inner, "-p", "no:asyncio")  # sync fixtures work without pytest-asyncio
    result.assert_outcomes(passed=2, failed=1)
    assert backend.lifecycles() == {
        "s1": ["echo a1", "delete"],
        "s2": ["echo a2", "delete"],
        "s3": ["delete"],  # also when the test fails
    }
    assert backend.creates() == 3
    result.stdout.fnmatch_lines(["sessions: 3 created, 0 reused, 3 deleted, 0 leaked"])
    assert backend.live() == []


def test_module_session_is_made_once_per_module_and_deleted_after_its_last_test(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makepyfile(
        test_a=_shell("a1", "agentbay_module_session") + _shell("a2", "agentbay_module_session"),
        test_b=_shell("b1", "agentbay_module_session") + _shell("b2", "agentbay_session"),
    )
    result = run(inner)
    result.assert_outcomes(passed=4)
    assert backend.lifecycles() == {
        "s1": ["echo a1", "echo a2", "delete"],
        "s2": ["echo b1", "delete"],
        "s3": ["echo b2", "delete"],
    }
    assert backend.creates() == 3
    assert len(backend.created_for("test_a.py")) == len(backend.created_for("test_b.py")) == 1
    result.stdout.fnmatch_lines(["sessions: 3 created, 1 reused, 3 deleted, 0 leaked"])


def test_class_session_is_made_once_per_class(inner: pytest.Pytester, backend: Backend) -> None:
    inner.makepyfile(
        test_c="""
        class TestX:
            def test_x1(self, agentbay_class_session):
                assert agentbay_class_session.command.execute_command("echo x1").success

            def test_x2(self, agentbay_class_session):
                assert agentbay_class_session.command.execute_command("echo x2").success

        class TestY:
            def test_y1(self, agentbay_class_session):
                assert agentbay_class_session.command.execute_command("echo y1").success
        """
    )
    result = run(inner)
    result.assert_outcomes(passed=3)
    assert backend.lifecycles() == {
        "s1": ["echo x1", "echo x2", "delete"],
        "s2": ["echo y1", "delete"],
    }
    assert backend.creates() == 2
    assert len(backend.created_for("test_c.py::TestX")) == 1


def test_shared_session_lives_for_the_whole_run(inner: pytest.Pytester, backend: Backend) -> None:
    inner.makepyfile(
        test_a=_shell("a1", "agentbay_shared_session"),
        test_b=_shell("b1", "agentbay_shared_session") + _shell("b2", "agentbay_session"),
    )
    result = run(inner)
    result.assert_outcomes(passed=3)
    assert backend.lifecycles() == {
        "s1": ["echo a1", "echo b1", "delete"],
        "s2": ["echo b2", "delete"],
    }
    assert backend.creates() == 2


def test_sessions_made_ahead_of_time_stay_within_the_precreate_bound(
    inner: pytest.Pytester, backend: Backend
) -> None:
    """Creating ahead must not hold the whole suite's sessions at once (cloud quota, cost)."""
    inner.makepyfile("\n".join(f"def test_{n}(agentbay_session):\n    pass\n" for n in range(20)))
    run(inner, "-o", "agentbay_precreate=4").assert_outcomes(passed=20)
    assert backend.creates() == 20
    assert backend.emulator.peak_live <= 4 + 2  # four waiting, one in use, one being deleted
    assert backend.live() == []


def test_sessions_are_deleted_when_a_later_fixture_errors_in_setup(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makepyfile(
        """
        import pytest

        @pytest.fixture
        def broken(agentbay_module_session, agentbay_session):
            raise RuntimeError("fixture broke")

        def test_one(broken):
            pass
        """
    )
    result = run(inner)
    result.assert_outcomes(errors=1)
    assert backend.creates() == 2
    assert backend.lifecycles() == {"s1": ["delete"], "s2": ["delete"]}
    assert backend.live() == []


ASYNC_SUITE = """
import asyncio
import pytest

{mark}

async def _echo(session, text):
    result = await session.command.execute_command(f"echo {{text}}")
    assert result.success and result.output.strip() == text
    return session.session_id


async def test_session(async_agentbay_session):
    await _echo(async_agentbay_session, "t1")


async def test_module_1(async_agentbay_module_session):
    await _echo(async_agentbay_module_session, "m1")


async def test_module_2(async_agentbay_module_session, agentbay_module_session):
    # the async view is the same session as the sync module session
    assert async_agentbay_module_session.session_id == agentbay_module_session.session_id
    await _echo(async_agentbay_module_session, "m2")


class TestClass:
    async def test_class_1(self, async_agentbay_class_session):
        await _echo(async_agentbay_class_session, "c1")

    async def test_class_2(self, async_agentbay_class_session):
        await _echo(async_agentbay_class_session, "c2")


async def test_shared(async_agentbay_shared_session):
    await _echo(async_agentbay_shared_session, "s1")


async def test_client(async_agentbay_client):
    listed = await async_agentbay_client.list()
    assert listed.success


async def test_factory(async_agentbay_session_factory):
    made = await asyncio.gather(
        async_agentbay_session_factory(image="code_latest"),
        async_agentbay_session_factory(labels={{"role": "peer"}}),
    )
    await asyncio.gather(*(_echo(s, "f") for s in made))
"""


@pytest.mark.parametrize(
    ("mode", "mark"),
    [("strict", "pytestmark = pytest.mark.asyncio"), ("auto", "")],
)
def test_async_fixtures_in_strict_and_auto_mode(
    inner: pytest.Pytester, backend: Backend, mode: str, mark: str
) -> None:
    inner.makepyfile(test_async=ASYNC_SUITE.format(mark=mark))
    result = run(inner, "-o", f"asyncio_mode={mode}", "-W", "error::RuntimeWarning")
    result.assert_outcomes(passed=8)
    output = result.stdout.str() + result.stderr.str()
    assert "attached to a different loop" not in output
    assert "Event loop is closed" not in output
    assert backend.creates() == 6  # function, module, class, shared, and two from the factory
    assert len(backend.created_for("test_async.py")) == 1
    assert len(backend.created_for("test_async.py::TestClass")) == 1
    assert backend.live() == []
    factory_labels = [p["Labels"].get("role") for p in backend.create_params()]
    assert "peer" in factory_labels


def test_async_fixtures_without_asyncio_mark_in_strict_mode_are_not_run_silently(
    inner: pytest.Pytester, backend: Backend
) -> None:
    """In strict mode an unmarked async test is not run by pytest-asyncio: no session leaks."""
    inner.makepyfile("async def test_unmarked(async_agentbay_session):\n    pass\n")
    result = run(inner, "-o", "asyncio_mode=strict")
    assert result.parseoutcomes().get("passed", 0) == 0
    assert backend.live() == []


def test_session_factory_makes_sessions_with_chosen_parameters_and_deletes_them_concurrently(
    inner: pytest.Pytester, backend: Backend
) -> None:
    backend.emulator.set_latency("DeleteSessionAsync", 0.3)
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.agentbay(labels={"team": "qa"})
        def test_factory(agentbay_session_factory):
            a = agentbay_session_factory(image="code_latest", labels={"n": "1"})
            b = agentbay_session_factory(labels={"n": "2"}, idle_release_timeout=120)
            c = agentbay_session_factory()
            assert len({a.session_id, b.session_id, c.session_id}) == 3
            assert a.image_id == "code_latest"
            assert a.command.execute_command("true").success
        """
    )
    result = run(inner)
    result.assert_outcomes(passed=1)
    made = [
        (p.get("ImageId"), p["Labels"].get("team"), p["Labels"].get("n"), p.get("Timeout"))
        for p in backend.create_params()
    ]
    assert made == [  # the idle expiry is --agentbay-session-expiry's unless a test sets it
        ("code_latest", "qa", "1", "1800"),
        ("linux_latest", "qa", "2", "120"),
        ("linux_latest", "qa", None, "1800"),
    ]
    assert backend.live() == []
    deletes = [at for action, at in backend.emulator.arrivals if action == "DeleteSessionAsync"]
    assert len(deletes) == 3
    assert max(deletes) - min(deletes) < 0.25  # each takes 0.3 s: they were sent together


def test_session_factory_rejects_bad_parameters(inner: pytest.Pytester, backend: Backend) -> None:
    inner.makepyfile(
        """
        import pydantic
        import pytest

        def test_factory(agentbay_session_factory):
            with pytest.raises(pydantic.ValidationError):
                agentbay_session_factory(colour="red")
        """
    )
    run(inner).assert_outcomes(passed=1)
    assert backend.creates() == 0


def test_client_and_endpoint_reach_the_runs_backend(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makepyfile(
        f"""
        from pytest_agentbay import AgentBay, Config

        def test_client(agentbay_client, agentbay_endpoint):
            assert agentbay_endpoint.endpoint == {backend.url!r}
            assert agentbay_endpoint.api_key == {KEY!r}
            made = agentbay_client.create().session
            with AgentBay(agentbay_endpoint.api_key, Config(agentbay_endpoint.endpoint)) as own:
                assert made.session_id in own.list().session_ids
            assert agentbay_client.delete(made).success

        def test_same_client(agentbay_client, request):
            assert agentbay_client is request.getfixturevalue("agentbay_client")
        """
    )
    run(inner).assert_outcomes(passed=2)
    assert backend.creates() == 1
    assert backend.live() == []


def test_emulator_fixture_controls_the_local_backend_and_is_reset_after(
    inner: pytest.Pytester,
) -> None:
    inner.makepyfile(
        """
        import pytest

        def test_quota(agentbay_emulator, agentbay_session_factory):
            agentbay_emulator.set_quota(1)
            agentbay_session_factory()
            with pytest.raises(pytest.fail.Exception, match="quota|Quota|limit"):
                agentbay_session_factory()
            assert agentbay_emulator.state()["knobs"]

        def test_reset_afterwards(agentbay_emulator, agentbay_session_factory):
            agentbay_session_factory()
            agentbay_session_factory()

        def test_all_gone(agentbay_emulator):
            assert agentbay_emulator.state()["live"] == 0
        """
    )
    # The refused create is retried until the quota timeout: keep it short.
    result = inner.runpytest("--agentbay", "--agentbay-quota-timeout=0.5", *QUIET)
    result.assert_outcomes(passed=3)


def test_emulator_fixture_skips_on_the_cloud_backend(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makepyfile("def test_knobs(agentbay_emulator):\n    pass\n")
    result = run(inner, "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        ["*agentbay_emulator needs the local backend; this run uses cloud*"]
    )


def test_every_fixture_has_a_docstring(inner: pytest.Pytester) -> None:
    result = inner.runpytest("--fixtures", *QUIET)
    text = result.stdout.str()
    names = [
        "agentbay_client",
        "async_agentbay_client",
        "agentbay_session",
        "agentbay_class_session",
        "agentbay_module_session",
        "agentbay_shared_session",
        "async_agentbay_session",
        "async_agentbay_class_session",
        "async_agentbay_module_session",
        "async_agentbay_shared_session",
        "agentbay_session_factory",
        "async_agentbay_session_factory",
        "agentbay_endpoint",
        "agentbay_emulator",
    ]
    lines = result.stdout.lines
    for name in names:
        (index,) = [i for i, line in enumerate(lines) if line.split(" ")[0] == name]
        assert lines[index + 1].startswith("    ") and lines[index + 1].strip(), name
        assert "no docstring available" not in lines[index + 1], name
    assert "agentbay" in text
