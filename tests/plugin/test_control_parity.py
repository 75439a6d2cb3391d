"""`EmulatorControl` (the plugin's knobs over HTTP) and `Emulator` have the same knobs."""

from __future__ import annotations

import inspect

import pytest

from pytest_agentbay.emulator import Emulator, EmulatorServer
from pytest_agentbay.emulator.endpoints import KNOBS
from pytest_agentbay.plugin.control import EmulatorControl, EmulatorControlError

from ..emulator.conftest import FakeSandbox

KEY = "akm-parity-key"


@pytest.mark.parametrize("method", sorted(KNOBS.values()))
def test_every_knob_has_the_emulator_signature(method: str) -> None:
    ours = inspect.signature(getattr(EmulatorControl, method))
    theirs = inspect.signature(getattr(Emulator, method))
    assert ours == theirs, f"EmulatorControl.{method}{ours} != Emulator.{method}{theirs}"


def test_no_knob_is_only_on_one_side() -> None:
    public = {name for name in dir(EmulatorControl) if not name.startswith("_")}
    assert public - {"close", "state"} == set(KNOBS.values())


def test_every_knob_reaches_the_backend() -> None:
    emulator = Emulator(api_keys=[KEY], sandbox_factory=FakeSandbox)
    with EmulatorServer(emulator) as server:
        control = EmulatorControl(server.url, KEY)
        try:
            control.inject_fault("GetSession", code="Slow", times=1, retry_after_ms=250)
            control.set_quota(3, api_key="akm-other")
            control.reseed(5)
            knobs = control.state()["knobs"]
            assert knobs["faults"][0]["code"] == "Slow" and knobs["keys_with_own_quota"] == 1
            with pytest.raises(EmulatorControlError, match="seconds"):
                control.set_latency("GetSession", -1)
            control.reset(sessions=True)
            assert control.state()["knobs"]["faults"] == []
        finally:
            control.close()
