"""session.file_system and session.code: sync = async, and the official SDK's signatures."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_agentbay import AgentBay, AsyncAgentBay, Config
from pytest_agentbay.client.files import Code, FileSystem
from pytest_agentbay.emulator import Emulator, EmulatorTransport

from .test_parity import public


@pytest.fixture
def services(tmp_path: Path) -> Iterator[list[tuple[str, Any, Any]]]:
    emulator = Emulator(root=tmp_path)
    kw = {"cfg": Config("http://emulator.local"), "transport": EmulatorTransport(emulator)}
    sync = AgentBay("akm-k", **kw).create().session
    asyn = asyncio.run(AsyncAgentBay("akm-k", **kw).get(sync.session_id)).session
    yield [("file_system", sync.file_system, asyn.file_system), ("code", sync.code, asyn.code)]
    emulator.close()


def test_sync_and_async_services_match(services: list[tuple[str, Any, Any]]) -> None:
    for name, sync, asyn in services:
        names = public(sync)
        assert sorted(names) == sorted(public(asyn)), name
        for attr, member in names.items():
            other = getattr(asyn, attr)
            assert inspect.signature(member) == inspect.signature(other), attr
            assert inspect.iscoroutinefunction(other) and not inspect.iscoroutinefunction(member)
            assert member.__doc__ and member.__doc__ == other.__doc__, attr


@pytest.mark.parametrize(("ours", "module", "theirs"), [
    (FileSystem, "agentbay._sync.filesystem", "FileSystem"),
    (FileSystem, "agentbay._async.filesystem", "AsyncFileSystem"),
    (Code, "agentbay._sync.code", "Code"),
    (Code, "agentbay._async.code", "AsyncCode"),
])
def test_same_names_and_parameters_as_the_official_sdk(ours: type, module: str,
                                                       theirs: str) -> None:
    sdk_class = getattr(pytest.importorskip(module), theirs)
    for name in (n for n in vars(ours) if not n.startswith("_")):
        sdk_params = dict(inspect.signature(getattr(sdk_class, name)).parameters)
        our_params = dict(getattr(ours, name)._signature.parameters)
        sdk_params.pop("self")
        for extra in ("stream_beta", "on_stdout", "on_stderr", "on_error"):  # WebSocket only
            sdk_params.pop(extra, None)
        assert list(our_params) == list(sdk_params), name
        for param, spec in our_params.items():
            assert (spec.kind, spec.default) == (sdk_params[param].kind,
                                                 sdk_params[param].default), (name, param)
