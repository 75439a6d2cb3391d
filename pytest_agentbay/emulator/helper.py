"""Running a helper program inside a session's sandbox, with its input in the environment.

Code tools do their work in the sandbox, the way the session's commands run, so they touch
exactly the session's own files under the sandbox rules (file tools too, through `_agents`).
The input travels in environment variables (no stdin in the sandbox API), split in parts
because Linux caps one variable at 128 KiB.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .records import RunResultLike, SessionRecord

if TYPE_CHECKING:
    from .state import Store

ENV_PART_BYTES = 100_000  # below Linux's MAX_ARG_STRLEN (128 KiB) for "NAME=value"


class HelperError(Exception):
    """The helper could not be run; the text says why, for the tool's error reply."""


@functools.cache
def source(name: str) -> str:
    """The text of a helper shipped next to this module (read once)."""
    return Path(__file__).with_name(name).read_text(encoding="utf-8")


def env_parts(prefix: str, text: str) -> dict[str, str]:
    """`text` as `<prefix>_0`, `<prefix>_1`, ... plus `<prefix>_PARTS`, cut on UTF-8 boundaries."""
    data, start = text.encode("utf-8"), 0
    parts: dict[str, str] = {}
    while start < len(data):
        end = min(start + ENV_PART_BYTES, len(data))
        while end < len(data) and 0x80 <= data[end] < 0xC0:
            end -= 1  # never split a character
        parts[f"{prefix}_{len(parts)}"] = data[start:end].decode("utf-8")
        start = end
    return parts | {f"{prefix}_PARTS": str(len(parts))}


def run_helper(
    store: Store,
    record: SessionRecord,
    argv: str,
    envs: Mapping[str, str],
    timeout_ms: int,
) -> RunResultLike:
    """Run `argv` (a bash command line) in the session's sandbox with `envs`."""
    sandbox = store.sandbox_for(record)
    try:
        return sandbox.run(f"exec {argv}", timeout_ms=timeout_ms, envs=envs)
    except (OSError, ValueError, RuntimeError) as exc:
        raise HelperError(f"the sandbox could not start it: {exc}") from None
