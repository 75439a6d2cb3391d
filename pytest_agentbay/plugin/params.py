"""The `agentbay_session_params` fixture's rules: which tests override it, that every test
sharing a session sees the same override at a wide enough scope, and what its value may hold.

A `conftest.py` overrides the fixture per directory (as `browser_context_args` is overridden
for Playwright); its value is known only when the fixture runs, so the sessions of tests that
see an override are never created ahead of time (the planner works from collection data).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from .scopes import FIXTURES, owner_node

PARAMS_FIXTURE = "agentbay_session_params"
WIDE = frozenset(n for n, u in FIXTURES.items() if u.owner not in (None, "test"))
SCOPE_RANK = {"function": 0, "class": 1, "module": 2, "package": 3, "session": 4}
HINT = (
    "override the agentbay_session_params fixture in that conftest.py instead:\n"
    '    @pytest.fixture(scope="session")\n'
    "    def agentbay_session_params(agentbay_session_params):\n"
    '        return {**agentbay_session_params, "image": "code_latest"}'
)


def definition(item: pytest.Item) -> Any:
    """The `agentbay_session_params` definition `item` sees (the closest one), or None."""
    info = getattr(item, "_fixtureinfo", None)  # pytest's resolved fixtures of the item
    defs = info.name2fixturedefs.get(PARAMS_FIXTURE) if info is not None else None
    return defs[-1] if defs else None


def overridden(item: pytest.Item) -> bool:
    """Whether `item` sees an `agentbay_session_params` other than the plugin's own (a
    conftest, module or class fixture, or a parametrization): its value is known only at setup."""
    fixturedef = definition(item)
    if fixturedef is None:
        return False
    return getattr(fixturedef.func, "__module__", "") != "pytest_agentbay.plugin.fixtures"


def check(items: list[pytest.Item]) -> None:
    """UsageError when tests sharing a session see different overrides, or an override is
    narrower than a session fixture that depends on it."""
    seen: dict[tuple[str, str], tuple[Any, str]] = {}
    for item in items:
        wide = [n for n in getattr(item, "fixturenames", ()) if n in WIDE]
        if not wide:
            continue
        fixturedef = definition(item) if overridden(item) else None  # None: the plugin's own
        for name in wide:
            use = FIXTURES[name]
            _check_scope(item, name, fixturedef)
            node = owner_node(item, use.owner) if use.owner else None
            key = (str(use.owner), node.nodeid if node is not None else "")
            first = seen.setdefault(key, (fixturedef, item.nodeid))
            if first[0] is not fixturedef:
                raise pytest.UsageError(_mixed(name, first[1], item.nodeid))


def _check_scope(item: pytest.Item, name: str, fixturedef: Any) -> None:
    if fixturedef is None or name.startswith("async_"):
        return  # async views get their session from the sync fixture, which is checked
    scope = getattr(fixturedef, "_scope", None) or getattr(fixturedef, "scope", "function")
    scope = getattr(scope, "value", scope)
    if SCOPE_RANK.get(str(scope), 0) < SCOPE_RANK[FIXTURES[name].scope]:
        raise pytest.UsageError(
            f"{item.nodeid}: {name} ({FIXTURES[name].scope} scope) uses agentbay_session_params, "
            f"overridden at {scope} scope ({_where(fixturedef)}): declare the override with "
            '@pytest.fixture(scope="session") (or at least as wide as the sessions using it)'
        )


def _mixed(name: str, first: str, other: str) -> str:
    return (
        f"{name} is one session for several tests, but {first} and {other} see different "
        "agentbay_session_params overrides: override it for the whole module (or directory), "
        "or use agentbay_session there"
        + (" (agentbay_shared_session: override it in the rootdir's conftest.py)"
           if "shared" in name else "")
    )


def _where(fixturedef: Any) -> str:
    baseid = getattr(fixturedef, "baseid", "")
    return f"defined for {baseid!r}" if baseid else "defined at the rootdir"


def fields(value: Any) -> dict[str, Any]:
    """The fixture's value as marker-style fields; pytest.fail naming the problem otherwise."""
    from pydantic import ValidationError  # here: runs without AgentBay never load pydantic

    from ..models.params import CreateSessionParams

    known = set(CreateSessionParams.model_fields) | {"image"}
    if value is None:
        return {}
    if isinstance(value, CreateSessionParams):
        return value.model_dump(exclude_none=True)
    if not isinstance(value, Mapping):
        pytest.fail(
            f"agentbay_session_params must return a dict (image=..., labels={{...}}, ...), "
            f"got {type(value).__name__}",
            pytrace=False,
        )
    unknown = sorted(set(value) - known)
    if unknown:
        pytest.fail(
            f"agentbay_session_params: unknown key {unknown[0]!r}; "
            f"known: {', '.join(sorted(known))}",
            pytrace=False,
        )
    renamed = dict(value)
    if "image" in renamed:
        renamed["image_id"] = renamed.pop("image")
    try:
        CreateSessionParams(**renamed)
    except ValidationError as error:
        problem = error.errors(include_url=False)[0]
        where = ".".join(str(p) for p in problem["loc"]) or "labels"
        pytest.fail(f"agentbay_session_params[{where!r}]: {problem['msg']}", pytrace=False)
    return renamed


def conftest_marks(plugin: Any) -> str | None:
    """An error naming `plugin` when it is a conftest.py with an `agentbay` mark in its
    `pytestmark` (pytest reads `pytestmark` only in test modules: it would apply to nothing)."""
    path = getattr(plugin, "__file__", None) or ""
    if Path(path).name != "conftest.py":
        return None
    marks = getattr(plugin, "pytestmark", [])
    marks = marks if isinstance(marks, list | tuple) else [marks]
    if not any(getattr(getattr(m, "mark", m), "name", None) == "agentbay" for m in marks):
        return None
    return (
        f"{path}: pytestmark = pytest.mark.agentbay(...) in a conftest.py applies to no test "
        f"(pytest reads pytestmark only in test modules); {HINT}"
    )
