"""The plugin's hook specifications, for a team's conftest.py or plugin: change the parameters
of new sessions, set a session up once it exists, and collect artifacts before it is deleted.

Implement them in a `conftest.py` (or a plugin) by name; pytest checks the arguments. Every
`session` is a synchronous `Session` (for async fixtures, a sync view of the same session), and
`node` the pytest node the session serves: the test, its class or module, or the pytest session
for `agentbay_shared_session`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..client.session import Session
    from ..models.params import CreateSessionParams

hookspec = pytest.hookspec


@hookspec
def pytest_agentbay_create_params(
    params: CreateSessionParams, node: pytest.Item | pytest.Collector
) -> None:
    """Change the parameters of a session about to be created for `node`, in place:
    `params.image_id = ...`, `params.labels["team"] = ...`, `params.policy_id = ...`. Runs
    after the fixture, markers and options are merged; the plugin's own labels are put back
    afterwards. Return nothing.

    Called once per session; for a session created ahead of time, at collection (so it must
    depend only on `params` and `node`; under xdist every worker plans, so it may be called
    for sessions another worker creates).
    """


@hookspec
def pytest_agentbay_session_created(
    session: Session[Any], node: pytest.Item | pytest.Collector
) -> None:
    """A session was created (or claimed, when made ahead of time) for `node`, before any test
    uses it: install, upload or start what your tests need. An exception is a setup error of
    the test and the session is deleted."""


@hookspec
def pytest_agentbay_session_before_delete(
    session: Session[Any], node: pytest.Item | pytest.Collector, failed: bool
) -> None:
    """`session`'s scope ended and it is about to be deleted (`failed`: a test using it failed):
    collect logs, screenshots or files. Not called for sessions kept by
    `--agentbay-keep-on-failure`, nor for the shared session of an xdist run (the controller
    deletes it after the workers have stopped). An exception is a teardown error of the test;
    the session is deleted anyway."""
