"""Knobs a test turns on the emulator: latency, injected faults, throttling, quotas, timings."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .reply import ApiError
from .tasks import TaskRule

THROTTLING_CODE = "Throttling.User"
THROTTLING_MESSAGE = "Request was denied due to user flow control."


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

    def quota_for(self, api_key: str) -> int | None:
        """The concurrent-session limit of `api_key` (None: no limit)."""
        return self.quotas.get(api_key, self.quota)

    def take_fault(self, names: Iterable[str], draw: Callable[[], float]) -> Fault | None:
        """The fault that fires for a call known by `names`, using up one of its `times`."""
        wanted = set(names)
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
        return next((rule for rule in self.rules if rule.pattern.search(text)), None)

    def describe(self) -> dict[str, Any]:
        """A plain-data view for the state endpoint (never the API keys)."""
        return {
            "settle_seconds": self.settle_seconds,
            "task_seconds": self.task_seconds,
            "latency": dict(self.latency),
            "faults": [fault.describe() for fault in self.faults],
            "quota": self.quota,
            "keys_with_own_quota": len(self.quotas),
            "task_rules": [rule.pattern.pattern for rule in self.rules],
        }
