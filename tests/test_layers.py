"""Imports point down only: a lower layer never imports a higher one at run time.

Read from the source with `ast`, so a violation is found without importing anything. An import
under `if TYPE_CHECKING:` is fine (type checkers only); any other import counts, wherever it is
(a function body included).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pytest_agentbay"

# package -> the packages above it, which it must not import at run time
FORBIDDEN = {
    "models": ("client", "plugin", "emulator", "cassette"),
    "protocol": ("client", "plugin", "emulator", "cassette"),
    "cassette": ("client", "plugin"),
    "emulator": ("client", "plugin"),
}
BOTTOM = ("errors", "clock", "redact", "labels", "_version")


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for s in node.orelse for n in _runtime_imports_of(s))
            continue
        yield from _runtime_imports_of(node)


def _runtime_imports_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from _runtime_imports(node)


def imported(path: Path, source: str | None = None) -> set[str]:
    """Absolute names of the `pytest_agentbay` modules that `path` (or `source`, read as if it
    were the module at `path`) imports at run time."""
    parts = ("pytest_agentbay", *path.relative_to(PACKAGE).with_suffix("").parts)
    source = path.read_text() if source is None else source
    names: set[str] = set()
    for node in _runtime_imports(ast.parse(source, str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
            continue
        base = list(parts[: len(parts) - node.level]) if node.level else []
        module = ".".join([*base, *(node.module or "").split(".")]).strip(".")
        names.update(f"{module}.{alias.name}" for alias in node.names)
    return {n for n in names if n.startswith("pytest_agentbay.")}


def violations(layer: str) -> list[str]:
    """`module imports name` for every upward import out of `layer`."""
    above = [f"pytest_agentbay.{p}" for p in FORBIDDEN[layer]]
    return [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for name in sorted(imported(path))
        if any(name == a or name.startswith(f"{a}.") for a in above)
    ]


@pytest.mark.parametrize(
    "layer",
    [
        "models",
        "protocol",
        "cassette",
        "emulator",
    ],
)
def test_layer_imports_nothing_above_it(layer: str) -> None:
    assert violations(layer) == []


@pytest.mark.parametrize("module", BOTTOM)
def test_the_bottom_layer_imports_nothing_of_the_package(module: str) -> None:
    assert imported(PACKAGE / f"{module}.py") == set()


def test_the_check_sees_an_upward_import_and_skips_type_only_ones() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from ..client.modes import M\n"
        "if TYPE_CHECKING:\n    from ..client.session import Session\n"
        "else:\n    from .. import plugin\n"
        "def late():\n    from ..plugin import run\n"
        "import pytest_agentbay.emulator.core\n"
    )
    assert imported(PACKAGE / "models" / "results.py", source) == {
        "pytest_agentbay.client.modes.M",
        "pytest_agentbay.plugin",
        "pytest_agentbay.plugin.run",
        "pytest_agentbay.emulator.core",
    }
