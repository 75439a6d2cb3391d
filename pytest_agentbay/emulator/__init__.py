"""An AgentBay API emulator that really runs commands: in-process (httpx) or on loopback HTTP."""

from .core import Emulator
from .images import BUILTIN_IMAGES, ImageSpec
from .records import LiveSession
from .reply import Reply
from .server import EmulatorServer
from .transport import EmulatorTransport

__all__ = [
    "BUILTIN_IMAGES",
    "Emulator",
    "EmulatorServer",
    "EmulatorTransport",
    "ImageSpec",
    "LiveSession",
    "Reply",
]
