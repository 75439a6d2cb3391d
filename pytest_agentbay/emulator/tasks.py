"""Agent tasks: ids, statuses that advance on the emulator clock, and scripted outcomes.

A task starts `running`. Each status poll moves it one step along its status sequence
(`running`, `finished` by default; mobile says `completed`), but the last step waits until
`task_seconds` have passed on the emulator clock since the task started (0: the first poll
already sees it). Terminating a task that has not ended answers `cancelling`; the next poll
says `cancelled`. Tests script outcomes with rules on the task text (first match wins).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ENDED = frozenset({"finished", "completed", "failed", "unsupported", "cancelled"})


def default_result(text: str) -> str:
    """What a task produces when no rule says otherwise: plainly an emulation."""
    return f"emulated result: task '{text}' was not run by a real agent"


@dataclass(frozen=True)
class TaskRule:
    """Tasks whose text matches `pattern` go through `statuses` and produce `result` or `error`."""

    pattern: re.Pattern[str]
    statuses: tuple[str, ...] | None = None
    result: str | Mapping[str, Any] | None = None
    error: str | None = None

    @classmethod
    def build(
        cls,
        pattern: str,
        statuses: Sequence[str] | None = None,
        result: str | Mapping[str, Any] | None = None,
        error: str | None = None,
    ) -> TaskRule:
        """A rule from plain values; raises ValueError on a bad regex or empty sequence."""
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"bad task pattern {pattern!r}: {exc}") from None
        if statuses is not None and (not statuses or not all(isinstance(s, str) for s in statuses)):
            raise ValueError("statuses must be a non-empty list of strings")
        return cls(compiled, tuple(statuses) if statuses else None, result, error)


@dataclass
class Task:
    """One agent task of one session."""

    task_id: str
    text: str
    kind: str
    steps: tuple[str, ...]
    product: str
    error: str
    started_at: float
    polls: int = 0
    cancel: str | None = None  # "cancelling", then "cancelled"

    def advance(self, now: float, task_seconds: float) -> str:
        """Count a status poll and say the status it sees."""
        if self.cancel == "cancelling":
            self.cancel = "cancelled"
        if self.cancel:
            return self.cancel
        self.polls += 1
        index = min(self.polls, len(self.steps) - 1)
        if index == len(self.steps) - 1 and index > 0 and now - self.started_at < task_seconds:
            index -= 1
        return self.steps[index]

    def current(self) -> str:
        """The status the last poll saw, without counting a poll."""
        if self.cancel:
            return self.cancel
        return self.steps[min(self.polls, len(self.steps) - 1)]


def _outcome(kind: str, text: str, rule: TaskRule | None) -> tuple[tuple[str, ...], str, str]:
    done = "completed" if kind == "mobile" else "finished"
    error = rule.error if rule and rule.error else ""
    steps = rule.statuses if rule and rule.statuses else ("running", "failed" if error else done)
    result: str | Mapping[str, Any] | None = rule.result if rule else None
    if result is None:
        result = "" if error else default_result(text)
        if kind == "browser" and result:
            result = {"result": result}  # the browser agent's default output schema
    product = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)
    return steps, product, error


@dataclass
class TaskBook:
    """The tasks of one session."""

    tasks: dict[str, Task] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, task_id: str, text: str, kind: str, rule: TaskRule | None, now: float) -> Task:
        """Register a new running task."""
        steps, product, error = _outcome(kind, text, rule)
        task = Task(task_id, text, kind, steps, product, error, now)
        with self.lock:
            self.tasks[task_id] = task
        return task

    def poll(self, task_id: str, now: float, task_seconds: float) -> dict[str, Any] | None:
        """The status payload of a task, or None for an unknown id."""
        with self.lock:
            task = self.tasks.get(task_id)
            if task is None:
                return None
            return status_payload(task, task.advance(now, task_seconds))

    def terminate(self, task_id: str) -> dict[str, Any] | None:
        """Ask a task to stop; None for an unknown id."""
        with self.lock:
            task = self.tasks.get(task_id)
            if task is None:
                return None
            if task.current() not in ENDED and task.cancel is None:
                task.cancel = "cancelling"
            return _ids(task) | {"status": task.current()}


def _ids(task: Task) -> dict[str, Any]:
    if task.kind == "mobile":
        return {"taskId": task.task_id, "task_id": task.task_id}
    return {"task_id": task.task_id}


def status_payload(task: Task, status: str) -> dict[str, Any]:
    """What `*_get_task_status` answers for `task` in `status`."""
    succeeded = status in ("finished", "completed")
    payload = _ids(task) | {
        "status": status,
        "action": _action(task, status),
        "product": task.product if succeeded else "",
    }
    if task.kind == "mobile":
        payload |= {"result": payload["product"], "stream": []}
    if status == "failed" or (task.error and status in ENDED):
        payload["error"] = task.error or f"emulated task '{task.text}' failed"
    return payload


def _action(task: Task, status: str) -> str:
    if status in ENDED:
        return f"emulated {task.kind} agent: task {status}"
    return f"emulated {task.kind} agent: working on '{task.text}'"
