"""The plugin's hooks, implemented in a conftest.py as a team would: changing the parameters of
new sessions, setting each session up, and collecting from it before it is deleted."""

from __future__ import annotations

import json

import pytest

from .conftest import Backend, run

CONFTEST = """
import json
import pathlib

LOG = pathlib.Path(__file__).parent / "hooks.jsonl"

def log(*entry):
    with LOG.open("a") as f:
        f.write(json.dumps(entry) + "\\n")

def pytest_agentbay_create_params(params, node):
    log("params", node.nodeid)
    params.labels["team"] = "qa"
    params.labels.pop("pytest-agentbay.run")  # the plugin puts its own labels back
    if "browser" in node.nodeid:
        params.image_id = "browser_latest"

def pytest_agentbay_session_created(session, node):
    session.command.execute_command("echo set-up > ready.txt")
    log("created", session.session_id, node.nodeid)

def pytest_agentbay_session_before_delete(session, node, failed):
    out = session.command.execute_command("cat ready.txt").stdout.strip()
    log("before_delete", session.session_id, node.nodeid, failed, out)
"""

TESTS = """
def test_plain(agentbay_session):
    assert agentbay_session.command.execute_command("cat ready.txt").stdout == "set-up\\n"

def test_browser(agentbay_session):
    pass

def test_module(agentbay_module_session):
    pass

def test_fails(agentbay_session):
    assert False

def test_factory(agentbay_session_factory):
    agentbay_session_factory(labels={"made": "here"})

async def test_async(async_agentbay_session):
    out = await async_agentbay_session.command.execute_command("cat ready.txt")
    assert out.stdout == "set-up\\n"
"""


def test_hooks_set_up_change_and_collect_from_every_session(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makeconftest(CONFTEST)
    inner.makepyfile(test_hooked=TESTS)
    result = run(inner, "-o", "asyncio_mode=auto", "--agentbay-precreate=4")
    result.assert_outcomes(passed=5, failed=1)
    log = [json.loads(line) for line in inner.path.joinpath("hooks.jsonl").read_text().splitlines()]
    created = {e[1]: e[2] for e in log if e[0] == "created"}
    ending = {e[1]: (e[2], e[3], e[4]) for e in log if e[0] == "before_delete"}
    sessions = backend.sessions()
    assert set(created) == set(ending) == {s.session_id for s in sessions}
    assert len(sessions) == 6 and not backend.live()
    # the parameters hook runs once per session, also for those created ahead of time
    assert sorted(e[1] for e in log if e[0] == "params") == sorted(created.values())
    for s in sessions:
        assert s.labels["team"] == "qa" and s.labels["pytest-agentbay.run"]
        assert s.image_id == ("browser_latest" if "browser" in created[s.session_id]
                              else "linux_latest")
        node, failed, out = ending[s.session_id]
        assert node == created[s.session_id] and out == "set-up"
        assert failed == node.endswith("test_fails")
    # in each session: the set-up before the test's commands, the collection just before delete
    for commands in backend.lifecycles().values():
        assert commands[0] == "echo set-up > ready.txt"
        assert commands[-2:] == ["cat ready.txt", "delete"]


def test_a_failing_setup_hook_is_a_setup_error_and_leaks_nothing(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makeconftest(
        "def pytest_agentbay_session_created(session, node):\n"
        "    raise RuntimeError('team set-up broke')\n"
    )
    inner.makepyfile(
        test_broken="""
        def test_one(agentbay_session): pass
        def test_two(agentbay_module_session): pass
        async def test_three(async_agentbay_session): pass
        """
    )
    result = run(inner, "-o", "asyncio_mode=auto")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(["*RuntimeError: team set-up broke*"])
    assert backend.creates() == 3 and not backend.live()
    result.stdout.fnmatch_lines(["sessions: 3 created, 0 reused, 3 deleted, 0 leaked"])


def test_a_failing_collect_hook_still_deletes_the_session(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makeconftest(
        "def pytest_agentbay_session_before_delete(session, node, failed):\n"
        "    raise RuntimeError('artifact upload broke')\n"
    )
    inner.makepyfile(test_one="def test_one(agentbay_session): pass")
    result = run(inner)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*RuntimeError: artifact upload broke*"])
    assert backend.creates() == 1 and not backend.live()


def test_a_params_hook_that_returns_or_breaks_params_is_a_clear_error(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makeconftest(
        """
        def pytest_agentbay_create_params(params, node):
            if "returns" in node.nodeid:
                return params.model_copy(update={"image_id": "code_latest"})
            params.labels["bad"] = 3
        """
    )
    inner.makepyfile(
        test_bad="def test_returns(agentbay_session): pass\n"
        "def test_breaks(agentbay_session): pass\n"
    )
    result = run(inner, "--agentbay-precreate=0")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*pytest_agentbay_create_params changes `params` in place and returns None; an "
            "implementation returned CreateSessionParams*",
            "*pytest_agentbay_create_params left test_bad.py::test_breaks's session params "
            "invalid: labels: *",
        ]
    )
    assert backend.creates() == 0
