"""The run's settings, read once at configure time into a frozen value: nothing changes them
afterwards, and whether the run replays cassettes is decided here too."""

from __future__ import annotations

import re
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


HEARTBEAT_SECONDS = 60.0
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


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
    run_id: str | None  # --agentbay-run-id, or given by the xdist controller; None: make one
    shard_id: str | None  # this invocation's id, given by the xdist controller; None: make one
    timeout: float  # seconds per request of every client the plugin makes
    expiry: int  # the service's idle release of sessions the run loses (0: none)
    quota_timeout: float  # seconds to wait for a quota slot before failing the test
    reap_age: float  # --agentbay-reap: seconds since a session's run was last alive
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
    def heartbeat(self) -> float:
        """Seconds between refreshes of the run's alive-until label (a third of how long
        each refresh promises, so one late refresh never makes a live run look dead)."""
        return HEARTBEAT_SECONDS if not self.expiry else min(HEARTBEAT_SECONDS, self.expiry / 4)

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
    expiry = int(_at_least(config, "agentbay_session_expiry", 0))
    reap_age = setting(config, "agentbay_reap_age")
    return Settings(
        live=live,
        reap=reap,
        keep_on_failure=bool(setting(config, "agentbay_keep_on_failure")),
        max_sessions=int(max_sessions) if max_sessions is not None else None,
        precreate=int(_at_least(config, "agentbay_precreate", 0)),
        shard=not setting(config, "agentbay_no_shard"),
        worker=workerinput.get("workerid", "main"),
        run_id=workerinput.get("agentbay_run_id") or _run_id(config),
        shard_id=workerinput.get("agentbay_shard_id"),
        timeout=_at_least(config, "agentbay_timeout", 0, above=True),
        expiry=expiry,
        quota_timeout=_at_least(config, "agentbay_quota_timeout", 0),
        reap_age=(
            _at_least(config, "agentbay_reap_age", 0) if reap_age is not None else float(expiry)
        ),
        fleet_dir=workerinput.get("agentbay_fleet"),
        uses_xdist=bool(workerinput) or bool(getattr(config.option, "numprocesses", None)),
        cassettes=None if reap else _cassettes(config, live),
        discovery=bool(config.getoption("collectonly") or config.getoption("setupplan")),
    )


def _at_least(config: pytest.Config, name: str, low: float, above: bool = False) -> float:
    """A numeric setting that must be >= `low` (> `low` with `above`); UsageError naming it."""
    value = setting(config, name)
    if value is None or value < low or (above and value == low):
        flag = "--" + name.replace("_", "-")
        bound = f"more than {low:g}" if above else f"{low:g} or more"
        raise pytest.UsageError(f"{flag} must be {bound}, got {value}")
    return float(value)


def _run_id(config: pytest.Config) -> str | None:
    value = setting(config, "agentbay_run_id")
    if value is None or value == "":
        return None
    if not RUN_ID.match(str(value)):
        raise pytest.UsageError(
            f"--agentbay-run-id (AGENTBAY_RUN_ID) must be 1-64 letters, digits or ._:- "
            f"starting with a letter or digit, got {value!r}"
        )
    return str(value)


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
