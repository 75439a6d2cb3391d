"""pytest-agentbay: test code against AgentBay cloud sessions, a local emulator, or cassettes."""

from .client.agentbay import AgentBay, AsyncAgentBay
from .client.config import Config
from .client.session import Session
from .clock import SystemClock, VirtualClock
from .errors import AgentBayError, ApiError, ProtocolError, ThrottlingError, TransportError
from .models.params import AgentOptions, CreateSessionParams
from .models.results import (
    CommandResult,
    DeleteResult,
    ExecutionResult,
    GetSessionData,
    GetSessionResult,
    InitializationResult,
    OperationResult,
    QueryResult,
    SessionInfo,
    SessionListResult,
    SessionPauseResult,
    SessionResult,
    SessionResumeResult,
    SessionSummary,
)
from .protocol.calls import RetryPolicy

SessionResult.model_rebuild(_types_namespace={"Session": Session})

__version__ = "0.1.0"

__all__ = [
    "AgentBay",
    "AgentBayError",
    "AgentOptions",
    "ApiError",
    "AsyncAgentBay",
    "CommandResult",
    "Config",
    "CreateSessionParams",
    "DeleteResult",
    "ExecutionResult",
    "GetSessionData",
    "GetSessionResult",
    "InitializationResult",
    "OperationResult",
    "ProtocolError",
    "QueryResult",
    "RetryPolicy",
    "Session",
    "SessionInfo",
    "SessionListResult",
    "SessionPauseResult",
    "SessionResult",
    "SessionResumeResult",
    "SessionSummary",
    "SystemClock",
    "ThrottlingError",
    "TransportError",
    "VirtualClock",
    "__version__",
]
