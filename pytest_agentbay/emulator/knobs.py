"""Knobs a test turns on the emulator: latency, injected faults, throttling, quotas, timings.

`Knobs` keeps them behind its own lock; every value is checked on the way in, so a knob set
over HTTP or in-process can never break later calls (a NaN delay, an endless settle time).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .reply import ApiError
from .tasks import TaskRule

THROTTLING_CODE = "Throttling.User"
THROTTLING_MESSAGE = "Request was denied due to user flow control."
SHELL = "shell"  # the latency knob's name for every command (not an action)
MAX_SECONDS = 3600.0  # an hour: longer than any test should wait, short enough to stay a delay


def checked_seconds(name: str, value: float) -> float:
    """`value` as a delay or duration in [0, MAX_SECONDS], or a ValueError naming `name`."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number of seconds, not {value!r}") from None
    if not math.isfinite(seconds) or not 0.0 <= seconds <= MAX_SECONDS:
        raise ValueError(f"{name} must be a number of seconds from 0 to {MAX_SECONDS:g} "
                         f"(not negative, NaN or infinite), not {value!r}")
    return seconds


@dataclass
class Fault:
    """Fail matching calls: the first `times` of them, a `rate` of them, or (neither) all."""

    action: str | None  # an action name, a tool name (for CallMcpTool), or None for every call
    code: str
    message: str = ""
    http_status: int = 400
    times: int | None = None
    rate: float | None = None
    retry_after_ms: int | None = None

    def __post_init__(self) -> None:
        if not self.code:
            raise ValueError("a fault needs a code")
        if not 400 <= self.http_status <= 599:
            raise ValueError(f"http_status must be 400..599, not {self.http_status}")
        if self.times is not None and self.rate is not None:
            raise ValueError("give times or rate, not both")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1")
        if self.rate is not None and not 0.0 < self.rate <= 1.0:
            raise ValueError("rate must be in (0, 1]")
        if self.retry_after_ms is not None and self.retry_after_ms < 1:
            raise ValueError("retry_after_ms must be a positive number of milliseconds")

    def error(self) -> ApiError:
        """The error this fault answers with; `x-acs-retry-after` when a retry time is set."""
        headers = {}
        if self.retry_after_ms is not None:
            headers["x-acs-retry-after"] = str(self.retry_after_ms)
        message = self.message or f"Injected fault {self.code}."
        return ApiError(self.code, message, self.http_status, headers)

    def describe(self) -> dict[str, Any]:
        """A plain-data view for the state endpoint."""
        return {"action": self.action, "code": self.code, "http_status": self.http_status,
                "times_left": self.times, "rate": self.rate}


@dataclass
class Knobs:
    """Every setting `reset()` puts back: timings from the constructor, no faults, no quotas."""

    settle_seconds: float = 0.0
    task_seconds: float = 0.0
    latency: dict[str, float] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    quota: int | None = None
    quotas: dict[str, int | None] = field(default_factory=dict)  # per API key
    rules: list[TaskRule] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def reset(self, settle_seconds: float, task_seconds: float) -> None:
        """Back to the given timings, with no latency, faults, quotas or task rules."""
        with self.lock:
            self.settle_seconds, self.task_seconds = settle_seconds, task_seconds
            self.latency, self.faults, self.rules = {}, [], []
            self.quota, self.quotas = None, {}

    def set_latency(self, name: str, seconds: float) -> None:
        """Delay calls of `name` (an action, or "shell") by `seconds`."""
        with self.lock:
            self.latency[name] = seconds

    def latency_of(self, name: str) -> float:
        """The delay of calls of `name` (0: none)."""
        with self.lock:
            return self.latency.get(name, 0.0)

    def add_fault(self, fault: Fault) -> None:
        """Arm a fault (checked first come, first served)."""
        with self.lock:
            self.faults.append(fault)

    def set_quota(self, max_sessions: int | None, api_key: str | None) -> None:
        """The concurrent-session limit of one key, or the default of all keys."""
        with self.lock:
            if api_key is None:
                self.quota = max_sessions
            else:
                self.quotas[api_key] = max_sessions

    def quota_for(self, api_key: str) -> int | None:
        """The concurrent-session limit of `api_key` (None: no limit)."""
        with self.lock:
            return self.quotas.get(api_key, self.quota)

    def add_rule(self, rule: TaskRule) -> None:
        """Script agent tasks (first matching rule wins)."""
        with self.lock:
            self.rules.append(rule)

    def set_timing(self, settle_seconds: float | None, task_seconds: float | None) -> None:
        """Change the timings that are given."""
        with self.lock:
            if settle_seconds is not None:
                self.settle_seconds = settle_seconds
            if task_seconds is not None:
                self.task_seconds = task_seconds

    def take_fault(self, names: Iterable[str], draw: Callable[[], float]) -> Fault | None:
        """The fault that fires for a call known by `names`, using up one of its `times`."""
        wanted = set(names)
        with self.lock:
            for fault in self.faults:
                if fault.action is not None and fault.action not in wanted:
                    continue
                if fault.rate is not None and draw() >= fault.rate:
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                return fault
        return None

    def rule_for(self, text: str) -> TaskRule | None:
        """The first scripted rule matching a task text."""
        with self.lock:
            return next((rule for rule in self.rules if rule.pattern.search(text)), None)

    def describe(self) -> dict[str, Any]:
        """A plain-data view for the state endpoint (never the API keys)."""
        with self.lock:
            return {
                "settle_seconds": self.settle_seconds,
                "task_seconds": self.task_seconds,
                "latency": dict(self.latency),
                "faults": [fault.describe() for fault in self.faults],
                "quota": self.quota,
                "keys_with_own_quota": len(self.quotas),
                "task_rules": [rule.pattern.pattern for rule in self.rules],
            }
