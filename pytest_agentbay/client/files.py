"""`session.file_system` and `session.code`, sync or async, with the official SDK's names."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..models.files import (
    BinaryFileContentResult,
    BoolResult,
    DirectoryListResult,
    EnhancedCodeExecutionResult,
    FileContentResult,
    FileInfoResult,
    FileSearchResult,
    MultipleFileContentResult,
)
from ..models.modes import M
from ..protocol import code as code_ops
from ..protocol import files, transfer
from ..protocol.calls import Op
from .binding import Bound, operation

if TYPE_CHECKING:
    from .agentbay import ClientBase
    from .session import Session


class _SessionService(Bound[M]):
    def __init__(self, session: Session[M]) -> None:
        self._client: ClientBase[M] = session._client
        self._driver = session._driver
        self._session_id = session.session_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}(session_id={self._session_id!r})"


class FileSystem(_SessionService[M]):
    """`session.file_system`: files of the session's machine, over its MCP file tools."""

    @operation
    def read_file(
        self, path: str, *, format: str = "text"
    ) -> Op[FileContentResult | BinaryFileContentResult]:
        """The file's text, or its bytes with `format="bytes"` (read in 50 KiB chunks)."""
        return transfer.read_file(self._client, self._session_id, path, format)

    @operation
    def write_file(self, path: str, content: str, mode: str = "overwrite") -> Op[BoolResult]:
        """Write `content` (`mode` "overwrite" or "append"); parents are created."""
        return transfer.write_file(self._client, self._session_id, path, content, mode)

    @operation
    def read_multiple_files(self, paths: Sequence[str]) -> Op[MultipleFileContentResult]:
        """The text of several files in one call (`contents`: path -> text)."""
        return files.read_multiple_files(self._client, self._session_id, paths)

    @operation
    def list_directory(self, path: str) -> Op[DirectoryListResult]:
        """The entries of a directory (name, is_directory), not recursive."""
        return files.list_directory(self._client, self._session_id, path)

    @operation
    def create_directory(self, path: str) -> Op[BoolResult]:
        """Create a directory and its missing parents."""
        return files.create_directory(self._client, self._session_id, path)

    @operation
    def move_file(self, source: str, destination: str) -> Op[BoolResult]:
        """Move or rename a file or directory."""
        return files.move_file(self._client, self._session_id, source, destination)

    @operation
    def delete_file(self, path: str) -> Op[BoolResult]:
        """Delete a file."""
        return files.delete_file(self._client, self._session_id, path)

    @operation
    def edit_file(
        self, path: str, edits: Sequence[dict[str, str]], dry_run: bool = False
    ) -> Op[BoolResult]:
        """Replace each `{"oldText", "newText"}` edit's first match; `dry_run` only checks."""
        return files.edit_file(self._client, self._session_id, path, edits, dry_run)

    @operation
    def get_file_info(self, path: str) -> Op[FileInfoResult]:
        """Size, times, type and permissions (`file_info`, `size`, `is_directory`, ...)."""
        return files.get_file_info(self._client, self._session_id, path)

    @operation
    def search_files(
        self, path: str, pattern: str, exclude_patterns: Sequence[str] | None = None
    ) -> Op[FileSearchResult]:
        """Paths under `path` whose names match the wildcard `pattern` (`*`, `?`)."""
        return files.search_files(self._client, self._session_id, path, pattern,
                                  exclude_patterns)

    @operation
    def read(self, path: str) -> Op[FileContentResult | BinaryFileContentResult]:
        """The file's text (an alias of `read_file(path)`)."""
        return transfer.read_file(self._client, self._session_id, path)

    # The official SDK's aliases (copies: each descriptor caches itself under its own name).
    write = copy.copy(write_file)
    list = copy.copy(list_directory)
    ls = copy.copy(list_directory)
    delete = copy.copy(delete_file)
    remove = copy.copy(delete_file)
    rm = copy.copy(delete_file)


class Code(_SessionService[M]):
    """`session.code`: run Python or JavaScript in a `code_latest` session."""

    @operation
    def run_code(
        self, code: str, language: str, timeout_s: int = 60
    ) -> Op[EnhancedCodeExecutionResult]:
        """Run `code`; the result has logs, result items, error and execution count."""
        return code_ops.run_code(self._client, self._session_id, code, language, timeout_s)

