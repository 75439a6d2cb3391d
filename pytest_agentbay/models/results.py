"""Public result models: what every client call returns, as the seed API documents them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ..errors import AgentBayError
from .modes import M

if TYPE_CHECKING:  # the Session facade lives in the client layer, above this one
    from ..client.session import Session

R = TypeVar("R", bound="ApiResult")


class ApiResult(BaseModel):
    """Fields every result carries; on failure `code` and `request_id` say what the service said."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    request_id: str = ""
    success: bool = False
    error_message: str = ""
    code: str = ""
    http_status_code: int = 0

    @classmethod
    def failed(cls: type[R], error: AgentBayError, doing: str, **fields: Any) -> R:
        """A failure result for `error` that happened while `doing` something."""
        return cls(
            request_id=error.request_id,
            success=False,
            error_message=f"Failed to {doing}: {error}",
            code=error.code,
            http_status_code=error.http_status,
            **fields,
        )


@dataclass(frozen=True)
class SessionData:
    """What a session is, as plain data: what `create`/`get` found, and what a client binds to a
    `Session` with `client.session(data)`. The secret-bearing URL stays out of repr."""

    session_id: str
    resource_url: str = ""
    app_instance_id: str = ""
    resource_id: str = ""
    image_id: str = ""

    def __repr__(self) -> str:
        return f"SessionData(session_id={self.session_id!r}, image_id={self.image_id!r})"


class SessionDataResult(ApiResult):
    """What the `create`/`get` operations return: the session as plain data, before a client
    binds it (`SessionResult` is what users see)."""

    data: SessionData | None = None


class SessionResult(ApiResult, Generic[M]):
    """`create()` and `get()`: the session object on success."""

    # Type checkers see the facade; at run time the field keeps whatever the client put there,
    # so this layer needs nothing from the client layer above it.
    if TYPE_CHECKING:
        session: Session[M] | None = None
    else:
        session: Any = None


class SessionSummary(BaseModel):
    """One row of `list()`: id, status and image as ListSession reports them."""

    session_id: str
    status: str = "UNKNOWN"
    app_instance_id: str = ""
    image_id: str = ""


class SessionListResult(ApiResult):
    """`list()`: the ids of one page (`session_ids`), its rows, and the paging fields."""

    session_ids: list[str] = Field(default_factory=list)
    sessions: list[SessionSummary] = Field(default_factory=list)
    next_token: str = ""
    max_results: int = 0
    total_count: int = 0


class DeleteResult(ApiResult):
    """`delete()`: the request id is DeleteSessionAsync's."""


class GetSessionData(BaseModel):
    """GetSession's Data. Secrets (token, signed URL) never show in repr."""

    session_id: str = ""
    status: str = ""
    app_instance_id: str = ""
    resource_id: str = ""
    resource_url: str = Field(default="", repr=False)
    token: str = Field(default="", repr=False)
    link_url: str = Field(default="", repr=False)
    ws_url: str = Field(default="", repr=False)
    http_port: str = ""
    network_interface_ip: str = ""
    vpc_resource: bool = False


class GetSessionResult(ApiResult):
    """`get_session()`: raw session data, no Session object."""

    data: GetSessionData | None = None


class SessionPauseResult(ApiResult):
    """`pause()` / `pause_async()`: `status` is PAUSED once waited for, PAUSING when not."""

    status: str = ""


class SessionResumeResult(ApiResult):
    """`resume()` / `resume_async()`: `status` is RUNNING once waited for, RESUMING when not."""

    status: str = ""


class SessionInfo(BaseModel):
    """GetMcpResource's desktop details. The auth code and ticket never show in repr."""

    session_id: str = ""
    resource_url: str = Field(default="", repr=False)
    app_id: str = ""
    auth_code: str = Field(default="", repr=False)
    connection_properties: str = ""
    resource_id: str = ""
    resource_type: str = ""
    ticket: str = Field(default="", repr=False)


class OperationResult(ApiResult):
    """`info()`, `get_labels()`, `set_labels()`: `data` holds what the call returned."""

    data: Any = None


class CommandResult(ApiResult):
    """`execute_command()`: `output` is stdout then stderr.

    `truncated` is true when the local backend cut the output at its limit (1 MiB per stream by
    default); the cloud service does not report it.
    """

    output: str = ""
    exit_code: int = 0
    stdout: str = ""
    stderr: str = ""
    trace_id: str = ""
    truncated: bool = False


class ExecutionResult(ApiResult):
    """Agent `execute_task*` and `terminate_task`."""

    task_id: str = ""
    task_status: str = ""
    task_result: Any = ""  # the agent's product: text, or the object it returned


class QueryResult(ApiResult):
    """Agent `get_task_status`."""

    task_id: str = ""
    task_status: str = ""
    task_action: Any = ""
    task_product: Any = ""  # text, or the object the agent returned


class InitializationResult(ApiResult):
    """`agent.browser.initialize()`."""
