"""Calling the plugin's own hooks (see hookspecs.py): the parameters hook, whose changes are
checked again and may not touch the plugin's own labels; and the session hooks, so that a
failing hook never leaks the session it was given."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from ..client.session import Session
from ..labels import LABEL_PREFIX
from ..models.params import CreateSessionParams

Node = pytest.Item | pytest.Collector


def create_params(
    config: pytest.Config, params: CreateSessionParams, node: Node
) -> CreateSessionParams:
    """`params` as the `pytest_agentbay_create_params` implementations leave them, checked
    again, with the plugin's own labels put back (cleanup and reports rely on them)."""
    hook = config.hook.pytest_agentbay_create_params
    if not hook.get_hookimpls():
        return params
    own = {k: v for k, v in params.labels.items() if k.startswith(LABEL_PREFIX + ".")}
    changed = params.model_copy(deep=True)
    returned = [r for r in hook(params=changed, node=node) if r is not None]
    if returned:
        pytest.fail(
            "pytest_agentbay_create_params changes `params` in place and returns None; "
            f"an implementation returned {type(returned[0]).__name__}",
            pytrace=False,
        )
    try:
        fields = {**changed.model_dump(), "labels": {**changed.labels, **own}}
        return CreateSessionParams.model_validate(fields)
    except ValidationError as error:
        problem = error.errors(include_url=False)[0]
        pytest.fail(
            f"pytest_agentbay_create_params left {node.nodeid or 'the run'}'s session params "
            f"invalid: {'.'.join(str(p) for p in problem['loc'])}: {problem['msg']}",
            pytrace=False,
        )


def wanted(config: pytest.Config, name: str) -> bool:
    """Whether any plugin or conftest.py implements the hook `name` (else skip the work)."""
    return bool(getattr(config.hook, name).get_hookimpls())


def created(
    config: pytest.Config, session: Session[Any], node: Node, delete: Callable[[], None]
) -> None:
    """Run `pytest_agentbay_session_created`; when it raises, `delete()` the session first."""
    try:
        config.hook.pytest_agentbay_session_created(session=session, node=node)
    except BaseException:
        delete()
        raise


def before_delete(config: pytest.Config, session: Session[Any], node: Node, failed: bool) -> None:
    """Run `pytest_agentbay_session_before_delete` (the caller deletes the session after it,
    whatever it did)."""
    config.hook.pytest_agentbay_session_before_delete(session=session, node=node, failed=failed)
