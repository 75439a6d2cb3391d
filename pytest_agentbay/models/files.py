"""Result models of `session.file_system` and `session.code`, with the official SDK's fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from .results import ApiResult


class BoolResult(ApiResult):
    """A file operation that only succeeds or fails (`data` is True on success)."""

    data: bool | None = None


class FileContentResult(ApiResult):
    """`read_file(path)`: the text of the file."""

    content: str = ""


class BinaryFileContentResult(ApiResult):
    """`read_file(path, format="bytes")`: the bytes of the file and their count."""

    content: bytes = b""
    content_type: str | None = None
    size: int | None = None


class MultipleFileContentResult(ApiResult):
    """`read_multiple_files(paths)`: path -> text (a failed file's text is its error)."""

    contents: dict[str, str] = Field(default_factory=dict)


class DirectoryEntry(BaseModel):
    """One entry of `list_directory`: its name and whether it is a directory."""

    name: str = ""
    is_directory: bool = False

    @property
    def is_file(self) -> bool:
        """Anything that is not a directory (symlinks included, as the service lists them)."""
        return not self.is_directory


class DirectoryListResult(ApiResult):
    """`list_directory(path)`: the entries, not recursive."""

    entries: list[DirectoryEntry] = Field(default_factory=list)


class FileInfoResult(ApiResult):
    """`get_file_info(path)`: `file_info` holds the service's fields (size, isFile, ...)."""

    file_info: dict[str, Any] = Field(default_factory=dict)

    @property
    def is_file(self) -> bool:
        """Whether the path is a regular file."""
        return bool(self.file_info.get("isFile", False))

    @property
    def is_directory(self) -> bool:
        """Whether the path is a directory."""
        return bool(self.file_info.get("isDirectory", False))

    @property
    def size(self) -> int:
        """The size in bytes."""
        size = self.file_info.get("size", 0)
        return size if isinstance(size, int) else 0

    @property
    def permissions(self) -> str:
        """The permission bits as the service reports them (e.g. `644`)."""
        return str(self.file_info.get("permissions", ""))


class FileSearchResult(ApiResult):
    """`search_files(path, pattern)`: the matching paths."""

    matches: list[str] = Field(default_factory=list)


@dataclass
class ExecutionLogs:
    """What the code printed: stdout and stderr, in pieces."""

    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)


@dataclass
class ExecutionResult:
    """One result item of `run_code` (e.g. a final expression's value) in its formats."""

    text: str | None = None
    html: str | None = None
    markdown: str | None = None
    png: str | None = None  # base64
    jpeg: str | None = None  # base64
    svg: str | None = None
    json: Any = None
    latex: str | None = None
    chart: Any = None
    is_main_result: bool = False

    def formats(self) -> list[str]:
        """The formats this item has a value in."""
        return [k for k, v in self.__dict__.items() if v is not None and k != "is_main_result"]


@dataclass
class ExecutionError:
    """The error the code raised: its type name, message and traceback."""

    name: str
    value: str
    traceback: str


class EnhancedCodeExecutionResult(ApiResult):
    """`run_code`: logs, result items, error, execution count and time."""

    execution_count: int | None = None
    execution_time: float = 0.0
    logs: ExecutionLogs = Field(default_factory=ExecutionLogs)
    results: list[ExecutionResult] = Field(default_factory=list)
    error: ExecutionError | None = None

    @property
    def result(self) -> str:
        """The main result's text, else the first result's, else everything printed."""
        for item in self.results:
            if item.is_main_result and item.text:
                return item.text
        if self.results and self.results[0].text:
            return self.results[0].text
        return "".join(self.logs.stdout)
