"""A session and its services (`command`, `agent`, `file_system`, `code`), sync or async."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic

from ..models.modes import M
from ..models.params import AgentOptions
from ..models.results import (
    CommandResult,
    DeleteResult,
    ExecutionResult,
    InitializationResult,
    OperationResult,
    QueryResult,
    SessionData,
    SessionPauseResult,
    SessionResumeResult,
)
from ..protocol import mcp_tools, sessions
from ..protocol.calls import Op
from ..protocol.lifecycle import POLL_INTERVAL_S, WAIT_TIMEOUT_S
from .binding import Bound, operation
from .files import Code, FileSystem

if TYPE_CHECKING:
    from .agentbay import ClientBase


class Session(Bound[M]):
    """A live cloud session. Its methods return results (sync) or coroutines (async).

    `data` is the session as plain data: hand it to another client (another thread, process or
    event loop) with `client.session(data)`. Make sessions with `client.create()`, `client.get()`
    or `client.session()`, not with this constructor.
    """

    def __init__(self, client: ClientBase[M], data: SessionData) -> None:
        self._client: ClientBase[M] = client
        self._driver = client._driver
        self.data = data
        self.command: Command[M] = Command(self)
        self.agent: Agent[M] = Agent(self)
        self.file_system: FileSystem[M] = FileSystem(self)
        self.code: Code[M] = Code(self)

    @property
    def session_id(self) -> str:
        """The session's id."""
        return self.data.session_id

    @property
    def resource_url(self) -> str:
        """The desktop URL; it carries an auth code, so keep it out of logs."""
        return self.data.resource_url

    @property
    def app_instance_id(self) -> str:
        """The app instance the session runs in."""
        return self.data.app_instance_id

    @property
    def resource_id(self) -> str:
        """The cloud resource behind the session."""
        return self.data.resource_id

    @property
    def image_id(self) -> str:
        """The image the session was created from ("" when the service did not say)."""
        return self.data.image_id

    def __repr__(self) -> str:  # the resource URL carries an auth code: never shown
        return f"Session(session_id={self.session_id!r}, image_id={self.image_id!r})"

    @operation
    def info(self) -> Op[OperationResult]:
        """The session's desktop details (GetMcpResource)."""
        return sessions.info(self._client, self.session_id)

    @operation
    def delete(self, sync_context: bool = False) -> Op[DeleteResult]:
        """Delete this session and wait until the service reports it gone."""
        return sessions.delete(self._client, self.session_id, sync_context)

    @operation
    def pause(
        self, timeout: float = WAIT_TIMEOUT_S, poll_interval: float = POLL_INTERVAL_S
    ) -> Op[SessionPauseResult]:
        """Pause this session and wait for PAUSED."""
        return sessions.pause(self._client, self.session_id, timeout, poll_interval)

    @operation
    def pause_async(self) -> Op[SessionPauseResult]:
        """Ask for a pause and return at once (status PAUSING)."""
        return sessions.pause(self._client, self.session_id, None)

    @operation
    def resume(
        self, timeout: float = WAIT_TIMEOUT_S, poll_interval: float = POLL_INTERVAL_S
    ) -> Op[SessionResumeResult]:
        """Resume this session and wait for RUNNING."""
        return sessions.resume(self._client, self.session_id, timeout, poll_interval)

    @operation
    def resume_async(self) -> Op[SessionResumeResult]:
        """Ask for a resume and return at once (status RESUMING)."""
        return sessions.resume(self._client, self.session_id, None)

    @operation
    def keep_alive(self) -> Op[OperationResult]:
        """Restart this session's idle time, so its `idle_release_timeout` counts from now."""
        return sessions.keep_alive(self._client, self.session_id)

    @operation
    def get_labels(self) -> Op[OperationResult]:
        """This session's labels (`data` is a dict)."""
        return sessions.get_labels(self._client, self.session_id)

    @operation
    def set_labels(self, labels: dict[str, str]) -> Op[OperationResult]:
        """Replace this session's labels."""
        return sessions.set_labels(self._client, self.session_id, labels)


class _Service(Bound[M]):
    def __init__(self, session: Session[M]) -> None:
        self._session: Session[M] = session
        self._client: ClientBase[M] = session._client
        self._driver = session._driver


class Command(_Service[M]):
    """`session.command`: shell commands."""

    @operation
    def execute_command(
        self,
        command: str,
        timeout_ms: int = 50000,
        cwd: str | None = None,
        envs: dict[str, str] | None = None,
    ) -> Op[CommandResult]:
        """Run `command` with bash; `cwd` and `envs` apply to the process, not the shell text."""
        return mcp_tools.execute_command(
            self._client, self._session.session_id, command, timeout_ms, cwd, envs
        )


class Computer(_Service[M]):
    """`session.agent.computer`: natural-language tasks on the desktop."""

    _tools = mcp_tools.COMPUTER

    @operation
    def execute_task(self, task: str) -> Op[ExecutionResult]:
        """Start `task` and return at once with its id (status `running`)."""
        return self._tools.execute_task(self._client, self._session.session_id, task)

    @operation
    def execute_task_and_wait(self, task: str, max_try_times: int) -> Op[ExecutionResult]:
        """Start `task` and poll every 3 s, at most `max_try_times` times, until it ends."""
        return self._tools.execute_task_and_wait(
            self._client, self._session.session_id, task, max_try_times
        )

    @operation
    def get_task_status(self, task_id: str) -> Op[QueryResult]:
        """The status, action and product of task `task_id`."""
        return self._tools.get_task_status(self._client, self._session.session_id, task_id)

    @operation
    def terminate_task(self, task_id: str) -> Op[ExecutionResult]:
        """Stop task `task_id`."""
        return self._tools.terminate_task(self._client, self._session.session_id, task_id)


class Browser(Computer[M]):
    """`session.agent.browser`: natural-language tasks in the browser."""

    _tools = mcp_tools.BROWSER

    @operation
    def initialize(self, options: AgentOptions | None = None) -> Op[InitializationResult]:
        """Initialise the browser agent with `options`."""
        return self._tools.initialize(self._client, self._session.session_id, options)


class Agent(Generic[M]):
    """`session.agent`: the computer and browser agents."""

    def __init__(self, session: Session[M]) -> None:
        self.computer: Computer[M] = Computer(session)
        self.browser: Browser[M] = Browser(session)

    def __repr__(self) -> str:
        return "Agent(computer, browser)"
