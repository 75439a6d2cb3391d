"""The emulator's handlers and tools leave locking to the state layer (`state.Store`, `Knobs`);
which layers the emulator may import is `tests/test_layers.py`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pytest_agentbay.emulator as package

HERE = Path(package.__file__).parent
ADAPTERS = ("actions.py", "mcp.py", "session_tools.py", "tooling.py", "core.py", "endpoints.py",
            "files.py", "code.py", "helper.py")


@pytest.mark.parametrize("name", ADAPTERS)
def test_handlers_and_tools_take_no_lock(name: str) -> None:
    tree = ast.parse((HERE / name).read_text())
    withs = [node for node in ast.walk(tree) if isinstance(node, ast.With)]
    assert not withs, f"{name} takes a lock at line {withs[0].lineno}: move it into state.py"
