"""`local_backend()` outside pytest, as moto's `mock_aws`: a plain script and a unittest suite,
each run in a subprocess of its own, reach the local backend through the environment it sets,
and find their environment as it was afterwards."""

from __future__ import annotations

import os
import sys

import httpx
import pytest

from pytest_agentbay import local_backend

SCRIPT = """
import asyncio, os
from pytest_agentbay import AgentBay, AsyncAgentBay, local_backend

with local_backend() as backend:
    client = AgentBay()  # from AGENTBAY_ENDPOINT / AGENTBAY_API_KEY, as code under test does
    session = client.create().session
    print("with:", session.command.execute_command("echo hello").stdout.strip(),
          client.endpoint == backend.endpoint, backend.endpoint.startswith("http://127.0.0.1:"))
print("after:", os.environ.get("AGENTBAY_ENDPOINT"), os.environ.get("AGENTBAY_API_KEY"),
      os.environ.get("AGENTBAY_REGION_ID"))

@local_backend()
async def agent():
    async with AsyncAgentBay() as client:
        session = (await client.create()).session
        return (await session.command.execute_command("echo async")).stdout.strip()

print("decorated:", asyncio.run(agent()), os.environ.get("AGENTBAY_API_KEY"))
"""

UNITTESTS = """
import os
import unittest
from pytest_agentbay import AgentBay, local_backend

ENDPOINTS = []

@local_backend()
class TestAgent(unittest.TestCase):
    def setUp(self):
        self.client = AgentBay()  # the backend is up before the class's own setUp

    def test_command(self):
        session = self.client.create().session
        self.assertEqual(session.command.execute_command("echo ok").stdout, "ok\\n")
        ENDPOINTS.append(os.environ["AGENTBAY_ENDPOINT"])

    def test_own_backend(self):
        self.assertEqual(self.agentbay.endpoint, os.environ["AGENTBAY_ENDPOINT"])
        self.assertEqual(self.client.list().session_ids, [])  # a fresh backend per test
        ENDPOINTS.append(os.environ["AGENTBAY_ENDPOINT"])

class TestZRestored(unittest.TestCase):  # runs last: unittest sorts by name
    def test_restored(self):
        self.assertEqual(os.environ.get("AGENTBAY_ENDPOINT"), "http://outer.invalid")
        self.assertNotIn("AGENTBAY_API_KEY", os.environ)
        self.assertEqual(len(set(ENDPOINTS)), 2)

if __name__ == "__main__":
    unittest.main()
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTBAY_")}
    return {**env, "AGENTBAY_ENDPOINT": "http://outer.invalid", "AGENTBAY_REGION_ID": "cn-x"}


def test_a_plain_script(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.path.joinpath("agent.py").write_text(SCRIPT)
    for name, value in _env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AGENTBAY_API_KEY", raising=False)
    result = pytester.run(sys.executable, "agent.py", timeout=60)
    assert result.ret == 0, result.stderr.str()
    assert result.stdout.lines == [
        "with: hello True True",
        "after: http://outer.invalid None cn-x",
        "decorated: async None",
    ]


def test_a_unittest_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.path.joinpath("test_agent.py").write_text(UNITTESTS)
    for name, value in _env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AGENTBAY_API_KEY", raising=False)
    result = pytester.run(sys.executable, "-m", "unittest", "-v", "test_agent", timeout=60)
    assert result.ret == 0, result.stderr.str()
    result.stderr.fnmatch_lines(["Ran 3 tests in *", "OK"])


def test_restores_the_environment_when_the_block_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTBAY_API_KEY", "outer-key")
    backend = local_backend()
    with pytest.raises(ZeroDivisionError), backend:
        assert os.environ["AGENTBAY_API_KEY"] == backend.api_key != "outer-key"
        with backend.client() as client:
            session = client.create().session
        raise ZeroDivisionError("the code under test broke")
    assert os.environ["AGENTBAY_API_KEY"] == "outer-key"
    assert session.session_id and backend.endpoint.startswith("http://127.0.0.1:")
    with pytest.raises(httpx.ConnectError):  # the server stopped with the block
        httpx.get(backend.endpoint, timeout=5)


def test_misuse_is_a_clear_error() -> None:
    with local_backend() as backend, pytest.raises(RuntimeError, match="already started"):
        backend.start()
    with pytest.raises(TypeError, match=r"decorates unittest\.TestCase classes, not Plain"):

        @local_backend()
        class Plain:
            pass


def test_refuses_an_unisolated_backend_while_a_real_key_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pytest_agentbay.emulator import sandbox

    monkeypatch.setattr(sandbox, "isolation_problem", lambda: "no user namespaces here")
    monkeypatch.setenv("AGENTBAY_API_KEY", "akm-real-looking-0123456789abcdef")
    with pytest.raises(RuntimeError, match=r"no user namespaces here.*allow_unisolated=True"):
        local_backend().start()
    assert os.environ["AGENTBAY_API_KEY"] == "akm-real-looking-0123456789abcdef"
    with local_backend(allow_unisolated=True) as backend:  # consent given
        assert os.environ["AGENTBAY_API_KEY"] == backend.api_key
