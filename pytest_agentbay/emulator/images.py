"""The images the emulator knows, and which tools each one offers.

Every image runs its commands with bash in the session's sandbox on this machine, so the
operating system a session reports is a label, not a different machine:

- `linux_latest`: `shell`, `get_metrics`, the file tools, the computer agent (`flux_*`).
- `code_latest`: `shell`, `get_metrics`, the file tools and `run_code`.
- `browser_latest`: `shell`, `get_metrics`, the file tools, the browser agent
  (`browser_use_*`, including 0.13's `browser_use_initialize`) and InitBrowser.
- `windows_latest`: reports os `windows`, but `shell` runs bash (not cmd.exe or PowerShell)
  and file paths are POSIX paths; `get_metrics`, the file tools, the computer agent (`flux_*`).
- `mobile_latest`: reports os `android`, but `shell` runs bash (not an Android shell);
  `get_metrics`, the mobile agent (`execute_task`, `get_task_status`, `terminate_task`,
  succeeding with `completed`). Its ResourceUrl contains `mobile/android`.

The file tools (`read_file`, `write_file`, `read_multiple_files`, `list_directory`,
`create_directory`, `move_file`, `delete_file`, `edit_file`, `get_file_info`, `search_files`;
see `files.py`) act on the session's sandbox. Their reply texts follow the service's file
server (a Node.js MCP server): `Successfully wrote to <path>`, `[DIR] name` / `[FILE] name`
lines, `key: value` file info (size, created, modified, accessed, isDirectory, isFile,
permissions as three octal digits), `<path>:\n<content>` parts joined by `\n---\n`,
`No matches found`, a fenced unified diff from `edit_file`, and errors such as
`Error: ENOENT: no such file or directory, open '/x'` (EACCES, EISDIR, ENOTDIR, EEXIST, ELOOP
alike). The codes and shapes are what the SDK and its documentation show; the exact wording
of each message is the emulator's (the service's texts are not published). Where the service
is silent the emulator chooses, and says so here: relative paths start at the session's HOME;
`write_file` creates missing parent directories; `move_file` refuses to replace an existing
destination; a text `read_file` with `offset`/`length` (bytes) returns the characters whose
first byte lies in that range, so chunked reads join up; binary content read as text comes
back with U+FFFD for invalid bytes; one reply carries at most 1 MiB (a larger read is an error
asking for offset and length, which the SDK's chunking always uses); `search_files` matches
file names with `*`/`?` wildcards (a plain word matches names containing it, any case) and
does not follow symlinked directories.

`run_code` (`code.py`) runs `python` with the sandbox's `python3` and `javascript` with
`node` (a tool error says so when Node is not installed); `r` and `java` answer a tool
error. Each call is a fresh process, so variables do not carry over between calls (the
service keeps a kernel per session); `execution_count` counts the session's calls. The reply
is the rich JSON the SDK parses: `logs` (stdout/stderr), `results` (the value of a final
expression as `text`, plus `html`, `markdown`, `png`, ... from `_repr_*_` methods),
`error` (`name`, `value`, `traceback`), `execution_count`, `execution_time`, `isError`. A
timeout kills the run's whole process group and answers error `TimeoutError`.

A CreateMcpSession without `ImageId` gets `linux_latest`. A tool the image does not offer
answers as a tool error (`isError`) naming the image and the tools it does offer; InitBrowser on
an image without the browser answers HTTP 400 `InvalidImage.BrowserNotSupported`. Custom image
ids are registered with `Emulator(images={"imgc-...": ImageSpec(tools=...)})`; an unknown image
id answers HTTP 400 `InvalidImage.NotFound`, listing the known ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

DEFAULT_IMAGE = "linux_latest"

# Tool family -> the MCP tool names it provides.
FAMILIES: dict[str, frozenset[str]] = {
    "shell": frozenset({"shell"}),
    "metrics": frozenset({"get_metrics"}),
    "computer": frozenset({"flux_execute_task", "flux_get_task_status", "flux_terminate_task"}),
    "browser": frozenset(
        {
            "browser_use_initialize",
            "browser_use_execute_task",
            "browser_use_get_task_status",
            "browser_use_terminate_task",
        }
    ),
    "mobile": frozenset({"execute_task", "get_task_status", "terminate_task"}),
    "files": frozenset({
        "read_file", "write_file", "read_multiple_files", "list_directory", "create_directory",
        "move_file", "delete_file", "edit_file", "get_file_info", "search_files",
    }),
    "code": frozenset({"run_code"}),
}


@dataclass(frozen=True)
class ImageSpec:
    """What a session of this image can do: its tool families (keys of `FAMILIES`) and os."""

    tools: frozenset[str] = field(default_factory=lambda: frozenset({"shell", "metrics"}))
    os: str = "linux"
    resource_type: str = "AIAgent"

    def __post_init__(self) -> None:
        object.__setattr__(self, "tools", frozenset(self.tools))
        unknown = sorted(set(self.tools) - set(FAMILIES))
        if unknown:
            raise ValueError(f"unknown tool families {unknown}; choose from {sorted(FAMILIES)}")

    @property
    def tool_names(self) -> frozenset[str]:
        """Every MCP tool name a session of this image answers."""
        return frozenset().union(*(FAMILIES[family] for family in self.tools))

    @property
    def has_browser(self) -> bool:
        """Whether InitBrowser and the browser agent work."""
        return "browser" in self.tools


def _spec(families: Iterable[str], os: str = "linux") -> ImageSpec:
    return ImageSpec(tools=frozenset(families), os=os)


BUILTIN_IMAGES: Mapping[str, ImageSpec] = {
    "linux_latest": _spec({"shell", "metrics", "computer", "files"}),
    "code_latest": _spec({"shell", "metrics", "files", "code"}),
    "browser_latest": _spec({"shell", "metrics", "browser", "files"}),
    "windows_latest": _spec({"shell", "metrics", "computer", "files"}, os="windows"),
    "mobile_latest": _spec({"shell", "metrics", "mobile"}, os="android"),
}


def resource_url(spec: ImageSpec, resource_id: str, auth_code: str) -> str:
    """A ResourceUrl like the service's; mobile ones name `android` and `mobile`."""
    kind = "mobile/android" if spec.os == "android" else f"desktop/{spec.os}"
    return f"https://emulator.agentbay.invalid/{kind}/?resourceId={resource_id}&authcode={auth_code}"
