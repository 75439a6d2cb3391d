"""The run's sign of life: while it runs, every session it holds carries an alive-until label,
refreshed in the background, so `--agentbay-reap` (a teammate's, another CI job's) skips it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..client.agentbay import AgentBay
from ..labels import ALIVE_LABEL
from ..models.results import SessionData

PROMISE = 3  # each refresh promises this many intervals: one late refresh is harmless


class Heartbeat:
    """Refreshes the alive-until label of `sessions` (id -> labels) every `every` seconds."""

    def __init__(
        self, client: Callable[[], AgentBay], sessions: dict[str, dict[str, str]], every: float
    ) -> None:
        self.client, self.sessions, self.every = client, sessions, every
        self.lock = threading.Lock()  # `sessions` changes in the main thread and deleters
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, session_id: str, labels: dict[str, str]) -> None:
        """Keep `session_id` marked alive (its labels, as SetLabel replaces them all)."""
        with self.lock:
            self.sessions[session_id] = dict(labels)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="agentbay-heartbeat")
            self._thread.daemon = True  # a crash must not hang on it; the label just expires
            self._thread.start()

    def remove(self, session_id: str) -> None:
        """`session_id` is gone: stop marking it."""
        with self.lock:
            self.sessions.pop(session_id, None)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.beat(time.time() + PROMISE * self.every)

    def beat(self, until: float, only: set[str] | None = None) -> None:
        """Set alive-until to `until` (epoch seconds) on the sessions held (or on `only`)."""
        with self.lock:
            held = [(s, dict(labels)) for s, labels in self.sessions.items()]
        for session_id, labels in held:
            if only is not None and session_id not in only:
                continue
            labels[ALIVE_LABEL] = str(int(until))
            self.client().session(SessionData(session_id)).set_labels(labels)
            with self.lock:
                if session_id in self.sessions:
                    self.sessions[session_id] = labels

    def stop(self) -> None:
        """Stop refreshing (the run ends: its sessions are deleted, or kept and marked over)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
