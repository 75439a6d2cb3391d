"""Per-session resource limits of the emulator's sandboxes: defaults, knobs, validation."""

from __future__ import annotations

from dataclasses import dataclass, fields

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one session may use; a runaway agent cannot raise any of them.

    - ``processes``: processes and threads alive at once in the session (a fork bomb stops here).
    - ``memory_mib``: data memory of each process (``RLIMIT_DATA``: heap and private mappings).
    - ``open_files``: open descriptors per process (hard limit: ``ulimit -n`` cannot raise it).
    - ``disk_mib``: size of the session's ``/tmp`` and, separately, of its home (both in RAM).
    - ``output_mib``: bytes kept per stream of one command; the result says when it was cut.

    The process, file and disk limits hold only where sessions are isolated (see the README).
    """

    processes: int = 256
    memory_mib: int = 2048
    open_files: int = 1024
    disk_mib: int = 512
    output_mib: int = 1

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"limit {spec.name} must be a positive integer, not {value!r}")
        if self.processes < 8:
            raise ValueError(f"limit processes must be at least 8, not {self.processes}")
        if self.open_files < 16:
            raise ValueError(f"limit open_files must be at least 16, not {self.open_files}")

    @property
    def output_bytes(self) -> int:
        """Bytes kept per output stream."""
        return self.output_mib * MIB

    def describe(self) -> dict[str, int]:
        """The limits as plain data (for the emulator's state and its start-up line)."""
        return {spec.name: getattr(self, spec.name) for spec in fields(self)}


DEFAULT_LIMITS = Limits()
HELP = {
    "processes": "processes and threads alive at once in a session",
    "memory_mib": "data memory of each process of a session, MiB",
    "open_files": "open files of each process of a session",
    "disk_mib": "size of a session's /tmp and, separately, of its home, MiB",
    "output_mib": "output kept per stream of one command, MiB (the result says truncated)",
}
