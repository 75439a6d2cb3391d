"""pytest-agentbay: test code against AgentBay cloud sessions, a local emulator, or cassettes."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .cassette.filters import before_record_request, before_record_response
    from .client.agentbay import AgentBay, AsyncAgentBay
    from .client.config import Config
    from .client.files import Code, FileSystem
    from .client.session import Session
    from .clock import Clock, SystemClock, VirtualClock
    from .errors import AgentBayError, ApiError, ProtocolError, ThrottlingError, TransportError
    from .local import LocalBackend, local_backend
    from .models.files import (
        BinaryFileContentResult,
        BoolResult,
        DirectoryEntry,
        DirectoryListResult,
        EnhancedCodeExecutionResult,
        FileContentResult,
        FileInfoResult,
        FileSearchResult,
        MultipleFileContentResult,
    )
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
        SessionData,
        SessionInfo,
        SessionListResult,
        SessionPauseResult,
        SessionResult,
        SessionResumeResult,
        SessionSummary,
    )
    from .plugin.cassette_view import AgentBayCassette
    from .plugin.control import EmulatorControl
    from .plugin.fixtures import Endpoint
    from .protocol.calls import RetryPolicy

# Every public name is imported on first use (PEP 562): pytest imports this package for the
# plugin in every run, and a run without AgentBay tests must not pay for httpx and pydantic.
_HOMES = {
    "pytest_agentbay.client.agentbay": (
        "AgentBay", "AsyncAgentBay",
    ),
    "pytest_agentbay.client.config": (
        "Config",
    ),
    "pytest_agentbay.client.files": (
        "Code", "FileSystem",
    ),
    "pytest_agentbay.client.session": (
        "Session",
    ),
    "pytest_agentbay.clock": (
        "Clock", "SystemClock", "VirtualClock",
    ),
    "pytest_agentbay.errors": (
        "AgentBayError", "ApiError", "ProtocolError", "ThrottlingError", "TransportError",
    ),
    "pytest_agentbay.models.files": (
        "BinaryFileContentResult", "BoolResult", "DirectoryEntry", "DirectoryListResult",
        "EnhancedCodeExecutionResult", "FileContentResult", "FileInfoResult", "FileSearchResult",
        "MultipleFileContentResult",
    ),
    "pytest_agentbay.models.params": (
        "AgentOptions", "CreateSessionParams",
    ),
    "pytest_agentbay.models.results": (
        "CommandResult", "DeleteResult", "ExecutionResult", "GetSessionData", "GetSessionResult",
        "InitializationResult", "OperationResult", "QueryResult", "SessionData", "SessionInfo",
        "SessionListResult", "SessionPauseResult", "SessionResult", "SessionResumeResult",
        "SessionSummary",
    ),
    "pytest_agentbay.protocol.calls": (
        "RetryPolicy",
    ),
    "pytest_agentbay.cassette.filters": (
        "before_record_request", "before_record_response",
    ),
    "pytest_agentbay.plugin.cassette_view": (
        "AgentBayCassette",
    ),
    "pytest_agentbay.plugin.control": (
        "EmulatorControl",
    ),
    "pytest_agentbay.plugin.fixtures": (
        "Endpoint",
    ),
    "pytest_agentbay.local": (
        "LocalBackend", "local_backend",
    ),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    if name in _HOME_OF:
        value = getattr(importlib.import_module(_HOME_OF[name]), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "AgentBay",
    "AgentBayCassette",
    "AgentBayError",
    "AgentOptions",
    "ApiError",
    "AsyncAgentBay",
    "BinaryFileContentResult",
    "BoolResult",
    "Clock",
    "Code",
    "CommandResult",
    "Config",
    "CreateSessionParams",
    "DeleteResult",
    "DirectoryEntry",
    "DirectoryListResult",
    "EmulatorControl",
    "Endpoint",
    "EnhancedCodeExecutionResult",
    "ExecutionResult",
    "FileContentResult",
    "FileInfoResult",
    "FileSearchResult",
    "FileSystem",
    "GetSessionData",
    "GetSessionResult",
    "InitializationResult",
    "LocalBackend",
    "MultipleFileContentResult",
    "OperationResult",
    "ProtocolError",
    "QueryResult",
    "RetryPolicy",
    "Session",
    "SessionData",
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
    "before_record_request",
    "before_record_response",
    "local_backend",
]
