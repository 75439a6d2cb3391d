"""The emulator stands on its own: it imports nothing from the client or the plugin, and its
handlers and tools leave locking to the state layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest_agentbay.emulator as package

HERE = Path(package.__file__).parent
ABOVE = ("client", "plugin", "cassette")
ADAPTERS = ("actions.py", "mcp.py", "session_tools.py", "tooling.py", "core.py", "endpoints.py")


def _imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            found.append("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return found


def test_no_import_reaches_above_the_emulator() -> None:
    for path in sorted(HERE.glob("*.py")):
        for name in _imports(path):
            parts = name.lstrip(".").split(".")
            upward = name.startswith("..") or name.startswith("pytest_agentbay.")
            assert not (upward and any(part in ABOVE for part in parts)), f"{path.name}: {name}"


def test_handlers_and_tools_take_no_lock() -> None:
    for name in ADAPTERS:
        tree = ast.parse((HERE / name).read_text())
        withs = [node for node in ast.walk(tree) if isinstance(node, ast.With)]
        assert not withs, f"{name} takes a lock at line {withs[0].lineno}: move it into state"
