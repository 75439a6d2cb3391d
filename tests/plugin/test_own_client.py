"""Code under test that builds its own client from the environment reaches the run's backend."""

from __future__ import annotations

import pytest

from .conftest import INI, QUIET, Backend, run

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")

OWN_CLIENTS = """
import agentbay
import pytest_agentbay


def official_sdk_echo(text):
    # code under test: the official SDK, configured only by the environment
    made = agentbay.AgentBay().create(agentbay.CreateSessionParams(labels={"by": "official-sdk"}))
    assert made.success, made.error_message
    return made.session.session_id, made.session.command.execute_command("echo " + text)


def our_client_echo(text):
    with pytest_agentbay.AgentBay() as client:
        session = client.create(pytest_agentbay.CreateSessionParams(labels={"by": "ours"})).session
        return session.session_id, session.command.execute_command("echo " + text)


@pytest.mark.parametrize("echo", [official_sdk_echo, our_client_echo])
def test_code_under_test_reaches_the_runs_backend(echo, agentbay_client):
    session_id, result = echo("hello")
    assert result.success and result.output.strip() == "hello"
    # the run's own client sees, and deletes, the session the code under test made
    seen = agentbay_client.get_session(session_id)
    assert seen.success, seen.error_message
    assert agentbay_client.delete(session_id).success
"""


def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


def test_own_clients_reach_the_local_backend_the_plugin_exports(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_proxy(monkeypatch)
    inner.makeini(INI + "asyncio_mode = auto\n")
    inner.makepyfile("import pytest\n" + OWN_CLIENTS)
    result = inner.runpytest_subprocess("--agentbay", *QUIET, timeout=60)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["agentbay: backend: local (*"])


def test_own_clients_reach_the_cloud_backend(
    inner: pytest.Pytester, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_proxy(monkeypatch)
    inner.makepyfile("import pytest\n" + OWN_CLIENTS)
    result = run(inner)
    result.assert_outcomes(passed=2)
    made_by = sorted(s.labels.get("by") for s in backend.sessions())
    assert made_by == ["official-sdk", "ours"]
    assert backend.live() == []
