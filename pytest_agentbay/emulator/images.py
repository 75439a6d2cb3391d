"""The images the emulator knows, and which tools each one offers.

Every image runs its commands with bash in the session's sandbox on this machine, so the
operating system a session reports is a label, not a different machine:

- `linux_latest`: `shell`, `get_metrics`, the computer agent (`flux_*`).
- `code_latest`: `shell`, `get_metrics`.
- `browser_latest`: `shell`, `get_metrics`, the browser agent (`browser_use_*`, including
  0.13's `browser_use_initialize`) and InitBrowser.
- `windows_latest`: reports os `windows`, but `shell` runs bash (not cmd.exe or PowerShell);
  `get_metrics`, the computer agent (`flux_*`).
- `mobile_latest`: reports os `android`, but `shell` runs bash (not an Android shell);
  `get_metrics`, the mobile agent (`execute_task`, `get_task_status`, `terminate_task`,
  succeeding with `completed`). Its ResourceUrl contains `mobile/android`.

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
    "linux_latest": _spec({"shell", "metrics", "computer"}),
    "code_latest": _spec({"shell", "metrics"}),
    "browser_latest": _spec({"shell", "metrics", "browser"}),
    "windows_latest": _spec({"shell", "metrics", "computer"}, os="windows"),
    "mobile_latest": _spec({"shell", "metrics", "mobile"}, os="android"),
}


def resource_url(spec: ImageSpec, resource_id: str, auth_code: str) -> str:
    """A ResourceUrl like the service's; mobile ones name `android` and `mobile`."""
    kind = "mobile/android" if spec.os == "android" else f"desktop/{spec.os}"
    return f"https://emulator.agentbay.invalid/{kind}/?resourceId={resource_id}&authcode={auth_code}"
