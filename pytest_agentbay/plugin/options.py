"""Command-line options, their ini twins, and the one place settings are resolved.

Precedence, highest first: command line > marker > ini file > environment > default. Markers
only exist per test, so `setting(..., marker=...)` takes the marker's value as an argument.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest

BACKENDS = ("auto", "cloud", "local")
RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")  # pytest-recording's


@dataclass(frozen=True)
class Option:
    """One setting: its flag, ini name, environment variable and default."""

    name: str
    help: str
    default: Any = None
    env: str | None = None
    kind: str = "string"  # string | bool | int | float | linelist
    choices: tuple[str, ...] | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


OPTIONS = {
    o.name: o
    for o in [
        Option("agentbay", "run the tests that need AgentBay sessions", False, kind="bool"),
        Option(
            "agentbay_backend",
            "auto: the cloud when AGENTBAY_API_KEY is set, else the local backend; cloud; local",
            "auto",
            "AGENTBAY_BACKEND",
            choices=BACKENDS,
        ),
        Option("agentbay_image", "default image of new sessions", "linux_latest", "AGENTBAY_IMAGE"),
        Option(
            "agentbay_label", "extra label k=v on every session (repeatable)", [], kind="linelist"
        ),
        Option(
            "agentbay_keep_on_failure",
            "keep a failed test's session alive and say how to reach it",
            False,
            kind="bool",
        ),
        Option(
            "agentbay_max_sessions",
            "cap on live sessions across the run and all its xdist workers (tests wait for a slot)",
            None,
            "AGENTBAY_MAX_SESSIONS",
            kind="int",
        ),
        Option(
            "agentbay_precreate",
            "create up to N sessions at once ahead of the tests that need them (0: off)",
            8,
            "AGENTBAY_PRECREATE",
            kind="int",
        ),
        Option(
            "agentbay_no_shard",
            "under xdist, do not keep tests that share a class/module session on one worker",
            False,
            kind="bool",
        ),
        Option(
            "agentbay_reap",
            "delete sessions this plugin created that are older than"
            " --agentbay-reap-age, then exit",
            False,
            kind="bool",
        ),
        Option(
            "agentbay_reap_age",
            "seconds since a session's run was last alive before --agentbay-reap deletes it"
            " (default: --agentbay-session-expiry)",
            None,
            kind="float",
        ),
        Option(
            "agentbay_record_mode",
            "cassettes of live runs (--agentbay): none, once, new_episodes, all, rewrite"
            " (without --agentbay, tests replay their cassettes)",
            "none",
            "AGENTBAY_RECORD_MODE",
            choices=RECORD_MODES,
        ),
        Option(
            "agentbay_cassette_dir",
            "directory of the cassettes, relative to the rootdir",
            "cassettes",
            "AGENTBAY_CASSETTE_DIR",
        ),
        Option(
            "agentbay_local_limit",
            "a per-session limit of the local backend, NAME=N (repeatable): processes,"
            " memory_mib, open_files, disk_mib, output_mib",
            [],
            kind="linelist",
        ),
        Option(
            "agentbay_allow_unisolated",
            "run the local backend on a machine where its sessions are NOT isolated even though"
            " AGENTBAY_API_KEY is set (their commands could read that key)",
            False,
            kind="bool",
        ),
        Option(
            "agentbay_require_cassettes",
            "without --agentbay, fail (instead of skip) tests that have no cassette",
            False,
            kind="bool",
        ),
        # -- never leak, never hang (faults, deadlines, expiry, run identity) --
        Option(
            "agentbay_timeout",
            "seconds every request of the plugin's clients may take (default 60)",
            60.0,
            "AGENTBAY_TIMEOUT",
            kind="float",
        ),
        Option(
            "agentbay_session_expiry",
            "idle seconds after which the service itself releases a session the run lost"
            " (its idle_release_timeout; 0: none)",
            1800,
            "AGENTBAY_SESSION_EXPIRY",
            kind="int",
        ),
        Option(
            "agentbay_quota_timeout",
            "seconds a test waits for a quota slot (--agentbay-max-sessions, or the service's"
            " quota) before it errors",
            120.0,
            "AGENTBAY_QUOTA_TIMEOUT",
            kind="float",
        ),
        Option(
            "agentbay_run_id",
            "label the sessions of this run (e.g. every CI shard) with this id; with"
            " --agentbay-reap, delete exactly this run's sessions",
            None,
            "AGENTBAY_RUN_ID",
        ),
    ]
}


def add_options(parser: pytest.Parser) -> None:
    """Register the "agentbay" option group and the ini twins."""
    group = parser.getgroup("agentbay", "AgentBay cloud sessions")
    for option in OPTIONS.values():
        kwargs: dict[str, Any] = {"dest": option.name, "help": option.help}
        if option.kind == "bool":
            kwargs.update(action="store_true", default=None)
        elif option.kind == "linelist":
            kwargs.update(action="append", default=None, metavar="KEY=VALUE")
        else:
            kwargs.update(default=None, choices=option.choices)
            if option.kind in ("int", "float"):
                kwargs["type"] = float if option.kind == "float" else int
        group.addoption(option.flag, **kwargs)
        parser.addini(option.name, option.help, type=_ini_type(option.kind))


def _ini_type(kind: str) -> Any:
    return {"bool": "bool", "linelist": "linelist"}.get(kind, "string")


def setting(config: pytest.Config, name: str, marker: Any = None) -> Any:
    """The value of setting `name`: command line > marker > ini > environment > default."""
    option = OPTIONS[name]
    cli = config.getoption(name)
    if cli is not None:
        return cli
    if marker is not None:
        return marker
    ini = config.getini(name)
    if ini not in (None, "", []):
        return _convert(option, ini)
    if option.env and os.environ.get(option.env):
        return _convert(option, os.environ[option.env])
    return option.default


def _convert(option: Option, raw: Any) -> Any:
    if option.kind in ("int", "float") and isinstance(raw, str):
        try:
            return float(raw) if option.kind == "float" else int(raw)
        except ValueError:
            raise pytest.UsageError(f"{option.name} must be a number, got {raw!r}") from None
    if option.choices and raw not in option.choices:
        raise pytest.UsageError(
            f"{option.name} must be one of {', '.join(option.choices)}, got {raw!r}"
        )
    return raw


def merged_labels(config: pytest.Config, marker: dict[str, str]) -> dict[str, str]:
    """Labels merge key by key, each key with the same precedence: command line > marker > ini."""
    ini = parse_labels(config.getini("agentbay_label") or [], "agentbay_label (ini)")
    cli = parse_labels(config.getoption("agentbay_label") or [], "--agentbay-label")
    return {**ini, **marker, **cli}


def parse_labels(pairs: list[str], where: str) -> dict[str, str]:
    """`["k=v", ...]` as a dict; UsageError naming `where` for a malformed pair."""
    labels = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise pytest.UsageError(f"{where}: label {pair!r} is not KEY=VALUE")
        labels[key.strip()] = value.strip()
    return labels
