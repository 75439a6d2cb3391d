"""Failures of the backend itself are setup errors carrying the service's code and request id."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from .conftest import QUIET, Backend, run

REQUEST_ID = "*[[]request id ????????-????-????-????-????????????[]]*"


def test_unknown_image_from_a_marker_is_a_setup_error(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makepyfile(
        test_img="""
        import pytest

        @pytest.mark.agentbay(image="no_such_image")
        def test_one(agentbay_session):
            pass

        def test_two(agentbay_session):
            pass
        """
    )
    result = run(inner)
    result.assert_outcomes(errors=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_one*",
            "*AgentBay could not create a session (image 'no_such_image') for "
            "test_img.py::test_one on the cloud backend:*[[]code InvalidImage.NotFound[]]"
            + REQUEST_ID,
        ]
    )
    assert "AssertionError" not in result.stdout.str()
    assert backend.live() == []


def test_quota_and_faults_set_through_the_emulator_fixture_are_setup_errors(
    inner: pytest.Pytester,
) -> None:
    inner.makepyfile(
        """
        import pytest

        @pytest.fixture
        def full(agentbay_emulator):
            agentbay_emulator.set_quota(0)

        @pytest.fixture
        def faulty(agentbay_emulator):
            agentbay_emulator.inject_fault("CreateMcpSession", code="Policy.Off", times=1)

        def test_fault(faulty, agentbay_session):
            pass

        def test_refused(full, agentbay_session):
            pass

        async def test_refused_async(full, async_agentbay_session):
            pass

        def test_quota_was_reset(agentbay_session):
            pass
        """
    )
    quota_wait = "--agentbay-quota-timeout=0.3"  # the service's quota errors are retried
    result = inner.runpytest("--agentbay", quota_wait, *QUIET, "-o", "asyncio_mode=auto")
    result.assert_outcomes(errors=3, passed=1)
    result.stdout.fnmatch_lines(["*ERROR at setup of test_fault*", "*[[]code Policy.Off[]]*"])
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_refused *",
            "*[[]code QuotaExceeded.McpSession[]]" + REQUEST_ID
            + " (still refused after waiting --agentbay-quota-timeout=0.3 s)",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*ERROR at setup of test_refused_async*", "*[[]code QuotaExceeded.McpSession[]]*"]
    )
    result.stdout.fnmatch_lines(["sessions: 1 created, 0 reused, 1 deleted, 0 leaked"])


@pytest.mark.parametrize(
    "fixture", ["agentbay_session", "agentbay_module_session", "agentbay_shared_session"]
)
def test_injected_fault_is_a_setup_error_for_every_scope(
    inner: pytest.Pytester, backend: Backend, fixture: str
) -> None:
    backend.emulator.inject_fault(
        "CreateMcpSession", code="InvalidParameter.Policy", message="policy is off"
    )
    inner.makepyfile(
        f"""
        def test_one({fixture}):
            pass
        """
    )
    result = run(inner)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*policy is off*[[]code InvalidParameter.Policy[]]" + REQUEST_ID])
    assert backend.creates() >= 1


def test_throttling_beyond_retries_is_a_setup_error(
    inner: pytest.Pytester, backend: Backend
) -> None:
    backend.emulator.throttle("CreateMcpSession", retry_after_ms=1)
    inner.makepyfile("def test_one(agentbay_session):\n    pass\n")
    result = run(inner)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*[[]code Throttling.User[]]" + REQUEST_ID])
    assert backend.creates() > 1  # the client retried before giving up


@pytest.fixture
def hanging_up() -> Iterator[str]:
    """An endpoint that accepts connections and closes them at once: a backend that is down."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)  # so the loop sees `stop`
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                connection, _ = listener.accept()
                connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    listener.close()
    thread.join(timeout=5)


def test_backend_down_is_a_setup_error(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, hanging_up: str
) -> None:
    monkeypatch.setenv("AGENTBAY_API_KEY", "akm-nobody-answers")
    monkeypatch.setenv("AGENTBAY_ENDPOINT", hanging_up)
    inner.makepyfile("def test_one(agentbay_session):\n    pass\n")
    result = run(inner)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*AgentBay could not create a session*on the cloud backend:*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # reported, not an internal error
