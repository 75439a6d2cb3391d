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
    metavar: str | None = None  # not the dest in capitals: it would read like a variable
    ini: bool = True  # False for actions (what a run does, not how): command line only

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def full_help(self, ini: bool = True) -> str:
        """The help text with the default and where else the setting comes from (`ini`: name
        the ini twin, which the ini listing itself does not need)."""
        where = []
        if self.default is False:
            where.append("default: off")
        elif self.default not in (None, []):
            shown = f"{self.default:g}" if self.kind == "float" else self.default
            where.append(f"default: {shown}")
        if self.env:
            where.append(f"env: {self.env}")
        if ini and self.ini:
            where.append(f"ini: {self.name}")
        return f"{self.help} ({'; '.join(where)})" if where else self.help


OPTIONS = {
    o.name: o
    for o in [
        Option("agentbay", "run the tests that need AgentBay sessions", False, kind="bool"),
        Option(
            "agentbay_backend",
            "where sessions live: cloud (the service; needs AGENTBAY_API_KEY), local (the"
            " emulator), or auto: cloud when the key is set (environment or .env), else local",
            "auto",
            "AGENTBAY_BACKEND",
            choices=BACKENDS,
            metavar="{auto,cloud,local}",
        ),
        Option(
            "agentbay_image",
            "default image of new sessions",
            "linux_latest",
            "AGENTBAY_IMAGE",
            metavar="IMAGE",
        ),
        Option(
            "agentbay_label",
            "extra label KEY=VALUE on every session; repeat for more",
            [],
            kind="linelist",
        ),
        Option(
            "agentbay_keep_on_failure",
            "keep a failed test's session alive and say how to reach it",
            False,
            kind="bool",
        ),
        Option(
            "agentbay_max_sessions",
            "cap on live sessions across the run and all its xdist workers; tests wait for a"
            " slot; no cap unless set",
            None,
            "AGENTBAY_MAX_SESSIONS",
            kind="int",
            metavar="N",
        ),
        Option(
            "agentbay_precreate",
            "create up to N sessions at once ahead of the tests that need them (0: off)",
            8,
            "AGENTBAY_PRECREATE",
            kind="int",
            metavar="N",
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
            ini=False,
        ),
        Option(
            "agentbay_reap_age",
            "seconds since a session's run was last alive before --agentbay-reap deletes it"
            " (default: --agentbay-session-expiry)",
            None,
            kind="float",
            metavar="SECONDS",
        ),
        Option(
            "agentbay_record_mode",
            "cassettes of live runs (--agentbay): none, once, new_episodes, all, rewrite"
            " (without --agentbay, tests replay their cassettes)",
            "none",
            "AGENTBAY_RECORD_MODE",
            choices=RECORD_MODES,
            metavar="MODE",
        ),
        Option(
            "agentbay_cassette_dir",
            "directory of the cassettes, relative to the rootdir",
            "cassettes",
            "AGENTBAY_CASSETTE_DIR",
            metavar="DIR",
        ),
        Option(
            "agentbay_local_limit",
            "a per-session limit of the local backend, NAME=N (repeatable): processes,"
            " memory_mib, open_files, disk_mib, output_mib",
            [],
            kind="linelist",
            metavar="NAME=N",
        ),
        Option(
            "agentbay_allow_unisolated",
            "run the local backend on a machine where its sessions are NOT isolated even though"
            " AGENTBAY_API_KEY is set (their commands could read that key)",
            False,
            kind="bool",
        ),
        Option(
            "agentbay_volatile",
            "regular expression for a part of requests that differs on every run (a fresh id"
            " or name), which replay ignores; repeat for more",
            [],
            kind="linelist",
            metavar="REGEX",
        ),
        Option(
            "agentbay_require_cassettes",
            "without --agentbay, fail (instead of skip) tests that have no cassette",
            False,
            kind="bool",
        ),
        # Reports for CI tools (plugin/artifacts.py)
        Option(
            "agentbay_output",
            "write each failed test's AgentBay call log (redacted) under DIR, one directory "
            "per test",
            None,
            "AGENTBAY_OUTPUT",
            metavar="DIR",
        ),
        # -- never leak, never hang (faults, deadlines, expiry, run identity) --
        Option(
            "agentbay_timeout",
            "seconds every request of the plugin's clients may take",
            60.0,
            "AGENTBAY_TIMEOUT",
            kind="float",
            metavar="SECONDS",
        ),
        Option(
            "agentbay_session_expiry",
            "idle seconds after which the service itself releases a session the run lost"
            " (its idle_release_timeout; 0: none)",
            1800,
            "AGENTBAY_SESSION_EXPIRY",
            kind="int",
            metavar="SECONDS",
        ),
        Option(
            "agentbay_quota_timeout",
            "seconds a test waits for a quota slot (--agentbay-max-sessions, or the service's"
            " quota) before it errors",
            120.0,
            "AGENTBAY_QUOTA_TIMEOUT",
            kind="float",
            metavar="SECONDS",
        ),
        Option(
            "agentbay_run_id",
            "label the sessions of this run (e.g. every CI shard) with this id; with"
            " --agentbay-reap, delete exactly this run's sessions",
            None,
            "AGENTBAY_RUN_ID",
            metavar="ID",
        ),
    ]
}


def add_options(parser: pytest.Parser) -> None:
    """Register the "agentbay" option group and the ini twins."""
    group = parser.getgroup("agentbay", "AgentBay cloud sessions")
    for option in OPTIONS.values():
        kwargs: dict[str, Any] = {"dest": option.name, "help": option.full_help()}
        if option.kind == "bool":
            kwargs.update(action="store_true", default=None)
        elif option.kind == "linelist":
            kwargs.update(action="append", default=None, metavar=option.metavar or "KEY=VALUE")
        else:
            kwargs.update(default=None, choices=option.choices, metavar=option.metavar)
            if option.kind in ("int", "float"):
                kwargs["type"] = float if option.kind == "float" else int
        group.addoption(option.flag, **kwargs)
        if option.ini:
            parser.addini(option.name, option.full_help(ini=False), type=_ini_type(option.kind))


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
    ini = config.getini(name) if option.ini else None
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
