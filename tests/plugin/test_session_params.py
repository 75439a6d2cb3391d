"""The `agentbay_session_params` fixture: overridden per directory in a conftest.py, under the
markers, never created ahead of time with settings it does not know yet; and the clear errors
for what pytest would otherwise ignore (a `pytestmark` in a conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Backend, run

SUB_CONFTEST = """
import pytest

@pytest.fixture(scope="session")
def agentbay_session_params(agentbay_session_params):
    return {
        **agentbay_session_params,
        "image": "code_latest",
        "labels": {"team": "qa", "tier": "sub"},
        "idle_release_timeout": 600,
    }
"""

SUB_TESTS = """
import pytest

def test_plain(agentbay_session):
    pass

def test_module(agentbay_module_session):
    pass

@pytest.mark.agentbay(image="browser_latest", labels={"tier": "marker"})
def test_marked(agentbay_session):
    pass

def test_factory(agentbay_session_factory):
    agentbay_session_factory(labels={"made": "here"})

async def test_async(async_agentbay_session):
    pass
"""


def _made(backend: Backend, nodeid: str) -> list[tuple[Any, ...]]:
    return [
        (
            p["ImageId"],
            p.get("Timeout"),
            {k: v for k, v in p["Labels"].items() if not k.startswith("pytest-agentbay.")},
        )
        for p in backend.create_params_for(nodeid)
    ]


def test_a_conftest_override_feeds_every_session_fixture_under_its_directory(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.mkpydir("sub")
    inner.path.joinpath("sub", "conftest.py").write_text(SUB_CONFTEST)
    inner.path.joinpath("sub", "test_sub.py").write_text(SUB_TESTS)
    inner.makepyfile(test_top="def test_top(agentbay_session, agentbay_module_session): pass")
    # look-ahead creation is on (the default): the overridden sessions must not be made early
    run(inner, "-o", "asyncio_mode=auto", "--agentbay-precreate=8").assert_outcomes(passed=6)
    sub = {"team": "qa", "tier": "sub"}
    assert _made(backend, "sub/test_sub.py::test_plain") == [("code_latest", "600", sub)]
    assert _made(backend, "sub/test_sub.py") == [("code_latest", "600", sub)]
    assert _made(backend, "sub/test_sub.py::test_async") == [("code_latest", "600", sub)]
    assert _made(backend, "sub/test_sub.py::test_factory") == [
        ("code_latest", "600", {**sub, "made": "here"})
    ]
    # markers apply on top of the fixture, field by field; labels merge key by key
    assert _made(backend, "sub/test_sub.py::test_marked") == [
        ("browser_latest", "600", {"team": "qa", "tier": "marker"})
    ]
    # outside the directory: the plugin's defaults (the expiry: --agentbay-session-expiry)
    assert _made(backend, "test_top.py::test_top") == [("linux_latest", "1800", {})]
    assert _made(backend, "test_top.py") == [("linux_latest", "1800", {})]
    assert backend.creates() == 7 and not backend.live()


def test_the_command_line_image_wins_over_the_fixture(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makeconftest(SUB_CONFTEST)
    inner.makepyfile(test_one="def test_one(agentbay_session): pass")
    run(inner, "--agentbay-image=browser_latest").assert_outcomes(passed=1)
    (made,) = _made(backend, "test_one.py::test_one")
    assert made[0] == "browser_latest" and made[2]["team"] == "qa"


def test_pytestmark_in_a_conftest_is_an_error_naming_the_fixture(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.mkpydir("sub")
    inner.path.joinpath("sub", "conftest.py").write_text(
        "import pytest\npytestmark = pytest.mark.agentbay(image='code_latest')\n"
    )
    inner.path.joinpath("sub", "test_sub.py").write_text("def test_a(agentbay_session): pass")
    result = run(inner)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*sub?conftest.py: pytestmark = pytest.mark.agentbay(...) in a conftest.py applies to no*"]
    )
    assert "override the agentbay_session_params fixture" in result.stderr.str()
    assert backend.creates() == 0


def test_an_override_narrower_than_the_session_using_it_is_an_error(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makeconftest(
        "import pytest\n@pytest.fixture\ndef agentbay_session_params(): return {}\n"
    )
    inner.makepyfile("def test_a(agentbay_module_session): pass")
    result = run(inner)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*agentbay_module_session (module scope) uses agentbay_session_params, overridden at "
         "function scope*scope=\"session\"*"]
    )


def test_tests_sharing_a_session_must_see_the_same_override(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makepyfile(
        """
        import pytest

        def test_outside(agentbay_module_session):
            pass

        class TestInside:
            @pytest.fixture(scope="module")
            def agentbay_session_params(self):
                return {"image": "code_latest"}

            def test_inside(self, agentbay_module_session):
                pass
        """
    )
    result = run(inner)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*agentbay_module_session is one session for several tests*"])
    assert backend.creates() == 0


def test_a_malformed_override_is_a_setup_error_naming_the_key(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makeconftest(
        "import pytest\n@pytest.fixture(scope='session')\n"
        "def agentbay_session_params(): return {'imagee': 'x'}\n"
    )
    inner.makepyfile("def test_a(agentbay_session): pass")
    result = run(inner)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*agentbay_session_params: unknown key 'imagee'; known: *"])
    assert backend.creates() == 0
