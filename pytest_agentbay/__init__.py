"""pytest-agentbay: test code against AgentBay cloud sessions, a local emulator, or cassettes."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .cassette.filters import before_record_request, before_record_response
from .client.agentbay import AgentBay, AsyncAgentBay
from .client.config import Config
from .client.files import Code, FileSystem
from .client.session import Session
from .clock import Clock, SystemClock, VirtualClock
from .errors import AgentBayError, ApiError, ProtocolError, ThrottlingError, TransportError
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
from .protocol.calls import RetryPolicy

if TYPE_CHECKING:
    from .local import LocalBackend, local_backend
    from .plugin.cassette_view import AgentBayCassette
    from .plugin.control import EmulatorControl
    from .plugin.fixtures import Endpoint

# Types of the plugin's fixtures, for type hints, and the local backend for use outside pytest.
# Imported on first use: importing the package must not import the plugin (and with it
# pytest's fixture machinery), nor the emulator.
_FROM_PLUGIN = {
    "AgentBayCassette": "pytest_agentbay.plugin.cassette_view",
    "EmulatorControl": "pytest_agentbay.plugin.control",
    "Endpoint": "pytest_agentbay.plugin.fixtures",
    "LocalBackend": "pytest_agentbay.local",
    "local_backend": "pytest_agentbay.local",
}


def __getattr__(name: str) -> Any:
    if name in _FROM_PLUGIN:
        return getattr(importlib.import_module(_FROM_PLUGIN[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
