"""What the run did with sessions: created, reused, deleted, leaked, timings and command logs.

The plugin's clients report every call here (the client's `observer`); fixtures report which
sessions each test used. Reports and the summary read from it; nothing here does I/O.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Set
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..errors import AgentBayError
from ..protocol.calls import tool_reply
from ..protocol.codec import Call, Failure, RawReply, decode
from ..redact import redact

TAIL = 400  # characters of output kept per stream in failure reports
FILE_TAIL = 16_000  # characters of output kept per stream for --agentbay-output's files
REDACT_MARGIN = 1024  # longer than any secret: tails are redacted with this much before them


Said = tuple[str, str, dict[str, Any]]  # an entry's request id, summary and details


class Entry:
    """One call a test made, for its failure report (`detail`: a command's command, exit code
    and output tails, for the files of --agentbay-output). The request id, summary and details
    are worked out, and redacted, when something first reads them: most tests pass, and their
    calls are never shown."""

    __slots__ = ("_said", "_secrets", "_work", "action", "session_id")

    def __init__(
        self, action: str, session_id: str, work: Callable[[], Said], secrets: Set[str]
    ) -> None:
        self.action, self.session_id = action, session_id
        self._work: Callable[[], Said] | None = work
        self._secrets = secrets
        self._said: Said | None = None

    def _say(self) -> Said:
        if self._said is None:
            assert self._work is not None
            request_id, summary, detail = self._work()
            shown = {
                k: redact(v, *self._secrets)[-FILE_TAIL:] if isinstance(v, str) else v
                for k, v in detail.items()
            }
            self._said, self._work = (request_id, redact(summary, *self._secrets), shown), None
        return self._said

    @property
    def request_id(self) -> str:
        """The reply's request id ("" when there is none)."""
        return self._say()[0]

    @property
    def summary(self) -> str:
        """One line for the report."""
        return self._say()[1]

    @property
    def detail(self) -> dict[str, Any]:
        """The details for the files of --agentbay-output."""
        return self._say()[2]

    def as_dict(self) -> dict[str, Any]:
        """The entry as JSON-ready fields."""
        return {"action": self.action, "session_id": self.session_id,
                "request_id": self.request_id, "summary": self.summary, "detail": self.detail}


def _calls() -> deque[Entry]:
    return deque(maxlen=20)


@dataclass
class Stats:
    """Figures for the terminal summary; xdist workers send theirs to the controller."""

    created: int = 0
    reused: int = 0
    deleted: int = 0
    leaked: int = 0
    kept: int = 0
    unused: int = 0  # created ahead for a test that did not claim it (deselected, changed)
    create_seconds: list[float] = field(default_factory=list)
    session_seconds: float = 0.0
    quota_wait_seconds: float = 0.0  # for --agentbay-max-sessions slots and service refusals

    def merge(self, other: dict[str, Any]) -> None:
        for name, value in other.items():
            setattr(self, name, getattr(self, name) + value)

    def lines(self) -> list[str]:
        """The summary lines."""
        line = (
            f"sessions: {self.created} created, {self.reused} reused, {self.deleted} deleted, "
            f"{self.leaked} leaked"
        )
        if self.kept:
            line += f", {self.kept} kept for debugging"
        if self.unused:
            line += f" ({self.unused} made ahead of time and not needed)"
        out = [line]
        if self.create_seconds:
            ordered = sorted(self.create_seconds)
            p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
            out.append(f"create latency: p50 {statistics.median(ordered):.3f} s, p95 {p95:.3f} s")
        out.append(f"session time: {self.session_seconds:.1f} session-seconds")
        if self.quota_wait_seconds:
            out.append(
                f"waited for quota: {self.quota_wait_seconds:.1f} s in all (a slot of "
                "--agentbay-max-sessions, or the service refusing creates for its quota)"
            )
        return out


class Tracker:
    """Run-wide bookkeeping of sessions and calls."""

    def __init__(
        self, worker: str = "main", run_id: str | None = None, shard_id: str | None = None
    ) -> None:
        self.shard_id = shard_id or uuid.uuid4().hex[:12]
        self.run_id = run_id or self.shard_id
        self.worker = worker
        self.stats = Stats()
        self._local = threading.local()
        self.orphans: list[str] = []  # sessions of creates whose reply was lost, found, deleted
        self.alive: dict[str, float] = {}  # session id -> creation time
        self.kept: set[str] = set()
        self.seen: set[str] = set()
        self.entries: dict[str, deque[Entry]] = defaultdict(_calls)
        self.secrets: set[str] = set()
        self._aside = threading.local()  # calls of this thread belong to no test (look-ahead)

    @property
    def current(self) -> str:
        """Node id of the test running now, in the thread that runs tests: calls made in
        other threads (background deletes, creates ahead of time) belong to no test."""
        return getattr(self._local, "current", "")

    @current.setter
    def current(self, nodeid: str) -> None:
        # Earlier tests' reports are made: their calls are dropped, or a long run would keep
        # every command's summary and output tails. (A new dict, swapped in whole: deletes run
        # in the background.)
        entries: dict[str, deque[Entry]] = defaultdict(_calls)
        if nodeid in self.entries:
            entries[nodeid] = self.entries[nodeid]
        self._local.current, self.entries = nodeid, entries

    def observe(self, call: Call, outcome: RawReply | Failure, seconds: float) -> None:
        """The clients' observer: learn from every call the plugin's clients make."""
        session_id = str(call.body.get("SessionId") or call.query.get("SessionId") or "")
        if call.action == "CallMcpTool" and not isinstance(outcome, Failure):
            # Decoded only if a report shows it (a command is a test's most frequent call).
            self._add(call.action, session_id, lambda: _tool_entry(call, outcome))
            return
        if isinstance(outcome, Failure):
            self._log(call.action, session_id, "", f"{outcome.kind}: {outcome.detail}")
            return
        try:
            envelope = decode(call.action, outcome)
        except AgentBayError as error:
            self._log(call.action, session_id, error.request_id, str(error))
            return
        data = envelope.data if isinstance(envelope.data, dict) else {}
        if call.action == "CreateMcpSession" and data.get("SessionId"):
            self.stats.created += 1
            self.stats.create_seconds.append(seconds)
            self.alive[str(data["SessionId"])] = time.monotonic()
            self._log(call.action, str(data["SessionId"]), envelope.request_id, "created")
        elif call.action == "DeleteSessionAsync":
            self.gone(session_id)
            self._log(call.action, session_id, envelope.request_id, "deleted")

    def note_use(self, session_ids: Iterable[str]) -> None:
        """A test starts with these sessions: the second and later uses of one are reuses."""
        for session_id in session_ids:
            if session_id in self.seen:
                self.stats.reused += 1
            self.seen.add(session_id)

    def gone(self, session_id: str) -> None:
        """`session_id` was deleted: count it and its lifetime."""
        started = self.alive.pop(session_id, None)
        if started is not None:
            self.stats.deleted += 1
            self.stats.session_seconds += time.monotonic() - started

    @contextmanager
    def unattributed(self) -> Iterator[None]:
        """Calls made inside belong to no test's log (sessions created ahead of time: the test
        that claims one gets a `note` of it instead); they still count in the figures."""
        self._aside.on = True
        try:
            yield
        finally:
            self._aside.on = False

    def note(self, action: str, session_id: str, request_id: str, summary: str) -> None:
        """Add a line to the current test's log."""
        self._log(action, session_id, request_id, summary)

    def _log(self, action: str, session_id: str, request_id: str, summary: str) -> None:
        self._add(action, session_id, lambda: (request_id, summary, {}))

    def _add(self, action: str, session_id: str, work: Callable[[], Said]) -> None:
        if not self.current or getattr(self._aside, "on", False):
            return
        self.entries[self.current].append(Entry(action, session_id, work, self.secrets))

    def report(self, nodeid: str, backend: str, sessions: list[dict[str, Any]]) -> str:
        """The "agentbay" section of a failed test's report."""
        lines = [backend]
        for info in sessions:
            lines.append(
                f"session {info['session_id']}: image {info['image']}, "
                f"labels {json.dumps(info['labels'], sort_keys=True)}"
            )
        entries = list(self.entries.get(nodeid, ()))
        if entries:
            lines.append("last calls (oldest first):")
        for entry in entries[-10:]:
            rid = f" [request {entry.request_id}]" if entry.request_id else ""
            lines.append(f"  {entry.action} {entry.session_id}{rid}: {entry.summary}")
        return redact("\n".join(lines), *self.secrets)


def _tool_entry(call: Call, outcome: RawReply) -> Said:
    """A tool call's request id, summary and details."""
    try:
        envelope = decode(call.action, outcome)
    except AgentBayError as error:
        return error.request_id, str(error), {}
    return (envelope.request_id, *_tool_summary(call, envelope))


def _tool_summary(call: Call, envelope: Any) -> tuple[str, dict[str, Any]]:
    """One line for the report, and the details for the files (a command's longer output)."""
    args = json.loads(str(call.body.get("Args") or "{}"))
    name = str(call.body.get("Name", ""))
    try:
        reply = tool_reply(envelope)
    except AgentBayError as error:
        return f"{name}: {error}", {"tool": name, "error": str(error)}
    if name != "shell":
        return f"{name} {json.dumps(args)[:200]} -> {reply.text[:200]}", {"tool": name}
    from ..protocol.mcp_tools import command_result  # (pydantic: only once a command ran)

    result = command_result(reply)
    command = str(args.get("command", ""))
    parts = [f"$ {command}", f"exit code {result.exit_code}"]
    if result.stdout:
        parts.append(f"stdout: ...{result.stdout[-TAIL:]!r}")
    if result.stderr:
        parts.append(f"stderr: ...{result.stderr[-TAIL:]!r}")
    detail = {
        "tool": name,
        "command": command,
        "exit_code": result.exit_code,
        # longer than kept: a secret cut at the start of the tail is still whole when redacted
        "stdout": result.stdout[-FILE_TAIL - REDACT_MARGIN :],
        "stderr": result.stderr[-FILE_TAIL - REDACT_MARGIN :],
    }
    return "; ".join(parts), detail
