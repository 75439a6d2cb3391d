"""The system clock is one clock: whatever makes it virtual (replay) reaches every user of it."""

from __future__ import annotations

import time

import pytest

from pytest_agentbay import SystemClock, VirtualClock
from pytest_agentbay.clock import SYSTEM_CLOCK


def test_a_users_own_system_clock_waits_on_the_clock_replay_makes_virtual(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    virtual = VirtualClock()
    monkeypatch.setattr(SYSTEM_CLOCK, "sleep", virtual.sleep)  # what replay does for a test
    started = time.monotonic()
    SystemClock().sleep(3)
    assert virtual.slept == 3 and time.monotonic() - started < 1


def test_the_system_clock_tells_real_time() -> None:
    before = time.monotonic()
    assert before <= SystemClock().now() <= time.monotonic()
