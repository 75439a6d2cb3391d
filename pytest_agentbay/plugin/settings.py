"""The run's settings, read once at configure time into a frozen value: nothing changes them
afterwards, and whether the run replays cassettes is decided here too."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .options import merged_labels, setting

NEEDS_AGENTBAY = (
    "needs AgentBay: run with `pytest --agentbay` (local backend, no key needed; the cloud "
    "when AGENTBAY_API_KEY is set)"
)


@dataclass(frozen=True)
class Cassettes:
    """How this run uses cassettes: `mode` "none" replays them (the run has no --agentbay)."""

    mode: str
    directory: Path
    label: str  # `directory` as people see it, relative to the rootdir when inside it
    require: bool

    @property
    def replaying(self) -> bool:
        return self.mode == "none"


@dataclass(frozen=True)
class Settings:
    """Every setting the plugin reads, resolved (command line > ini > environment > default)."""

    live: bool  # --agentbay: sessions on the local backend or the cloud
    reap: bool  # --agentbay-reap: delete old sessions and exit
    keep_on_failure: bool
    max_sessions: int | None  # fleet-wide quota; None: no cap
    precreate: int  # sessions created ahead of time at once (0: off)
    shard: bool  # under xdist, keep tests sharing a class/module session on one worker
    worker: str  # xdist worker id, or "main"
    run_id: str | None  # given by the xdist controller; None: make one
    fleet_dir: str | None  # given by the xdist controller; None: this process owns the fleet
    uses_xdist: bool
    cassettes: Cassettes | None  # None: no cassettes
    discovery: bool = False  # --collect-only / --setup-plan: tests are listed, never run

    @property
    def active(self) -> bool:
        """Whether the run needs a backend, cassettes or a fleet at all. A run that is not
        active (no --agentbay, no cassettes, or only listing tests) builds no run state and
        imports no client: it costs nothing."""
        return self.reap or (not self.discovery and (self.live or self.cassettes is not None))

    @property
    def is_worker(self) -> bool:
        return self.worker != "main"

    @property
    def replaying(self) -> bool:
        """Sessions come from cassettes, with no --agentbay."""
        return self.cassettes is not None and self.cassettes.replaying

    @property
    def enabled(self) -> bool:
        """Tests that need AgentBay run (live, or replayed); else they are skipped."""
        return self.live or self.replaying

    @property
    def recording(self) -> bool:
        """Cassettes are in use: each scope's traffic belongs to that scope's cassette."""
        return self.cassettes is not None

    @property
    def plans(self) -> bool:
        """Whether sessions are created ahead of time in this run."""
        live = self.live and not self.reap and self.cassettes is None
        return bool(self.precreate and live and not self.max_sessions)


def read_settings(config: pytest.Config) -> Settings:
    """The run's settings; UsageError naming the setting when one is malformed."""
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    max_sessions = setting(config, "agentbay_max_sessions")
    if max_sessions is not None and int(max_sessions) < 1:
        raise pytest.UsageError(f"--agentbay-max-sessions must be 1 or more, got {max_sessions}")
    merged_labels(config, {})  # a malformed label stops the run at start
    live = bool(setting(config, "agentbay"))
    reap = bool(setting(config, "agentbay_reap"))
    return Settings(
        live=live,
        reap=reap,
        keep_on_failure=bool(setting(config, "agentbay_keep_on_failure")),
        max_sessions=int(max_sessions) if max_sessions is not None else None,
        precreate=max(0, int(setting(config, "agentbay_precreate"))),
        shard=not setting(config, "agentbay_no_shard"),
        worker=workerinput.get("workerid", "main"),
        run_id=workerinput.get("agentbay_run_id"),
        fleet_dir=workerinput.get("agentbay_fleet"),
        uses_xdist=bool(workerinput) or bool(getattr(config.option, "numprocesses", None)),
        cassettes=None if reap else _cassettes(config, live),
        discovery=bool(config.getoption("collectonly") or config.getoption("setupplan")),
    )


def _cassettes(config: pytest.Config, live: bool) -> Cassettes | None:
    """Record in a live run with a record mode; replay without --agentbay when the cassette
    directory exists (or cassettes are required)."""
    mode = setting(config, "agentbay_record_mode")
    directory = Path(config.rootpath, setting(config, "agentbay_cassette_dir"))
    require = bool(setting(config, "agentbay_require_cassettes"))
    if live and mode == "none":
        return None
    if not live:
        if config.getoption("agentbay_record_mode") not in (None, "none"):
            raise pytest.UsageError(
                f"--agentbay-record-mode={mode} records live traffic: add --agentbay "
                "(without it, tests replay their cassettes)"
            )
        if not directory.is_dir() and not require:
            return None  # no cassettes: tests needing AgentBay are skipped as before
        mode = "none"
    return Cassettes(mode, directory, shown(config, directory), require)


def shown(config: pytest.Config, path: Path) -> str:
    """`path` as people see it: relative to the rootdir when inside it."""
    try:
        return path.relative_to(config.rootpath).as_posix()
    except ValueError:
        return str(path)
