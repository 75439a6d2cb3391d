"""Creates that can neither leak nor hang: quota waits with a deadline, the service's quota
errors retried with backoff and jitter up to that deadline, and creates in flight accounted for
(a create whose reply was lost may still have made a session: it is found by its labels)."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..client.agentbay import AgentBay
from ..models.params import CreateSessionParams
from ..models.results import SessionResult

QUOTA_CODES = ("QuotaExceeded",)  # the service has no room now (throttling: the client retries)
UNSENT = ("ConnectError", "ConnectTimeout")  # transport failures that never reached the server
POLL_SECONDS = 0.2
Result = SessionResult[Any]


def jittered(base: float, attempt: int, cap: float) -> float:
    """Exponential backoff with full jitter: processes that failed together retry apart."""
    return random.uniform(0.0, min(cap, base * 2**attempt))


def pauses(seconds: float) -> Iterator[float]:
    """Pauses before each retry of a create refused for quota, until `seconds` have passed."""
    deadline = time.monotonic() + seconds
    for attempt in itertools.count():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        yield min(left, jittered(0.5, attempt, 8.0))


def is_quota_error(result: Result) -> bool:
    """The service refused the create for lack of quota (or throttled it): try again later."""
    return not result.success and result.code.startswith(QUOTA_CODES)


def maybe_made(result: Result) -> bool:
    """A failed create that may have made a session anyway (the reply was lost, not refused)."""
    return not result.success and not result.http_status_code and result.code not in UNSENT


@dataclass
class InFlight:
    """Creates under way in this process, and creates whose reply was lost (orphan suspects)."""

    running: int = 0
    suspects: list[tuple[dict[str, str], float]] = field(default_factory=list)  # labels, until
    lock: threading.Condition = field(default_factory=threading.Condition)

    def begin(self) -> None:
        with self.lock:
            self.running += 1

    def end(self, params: CreateSessionParams, result: Result | None, window: float) -> None:
        """One create is over; remember its labels when a session may exist nobody knows of."""
        with self.lock:
            self.running -= 1
            if result is None or maybe_made(result):
                self.suspects.append((dict(params.labels), time.monotonic() + window))
            self.lock.notify_all()

    def wait(self, seconds: float) -> None:
        """Wait (at most `seconds`) for the creates under way to end."""
        with self.lock:
            self.lock.wait_for(lambda: self.running == 0, timeout=seconds)

    def reclaim(
        self, client: AgentBay, known: Callable[[str], bool], final: bool = False
    ) -> list[str]:
        """Delete the sessions suspect creates made (found by their exact labels); with
        `final`, keep looking for each until its window ends (the server may still be making
        it). Returns the ids deleted."""
        found: list[str] = []
        with self.lock:
            suspects, self.suspects = self.suspects, []
        for labels, until in suspects:
            while True:
                listed = client.list(labels=labels, limit=20)
                if not listed.success:  # the service is unreachable: it cannot be looked for
                    ids = []
                    break
                ids = [i for i in listed.session_ids if not known(i)]
                for session_id in ids:
                    if client.delete(session_id).success:
                        found.append(session_id)
                if ids or not final or time.monotonic() >= until:
                    break
                time.sleep(POLL_SECONDS)
            if not ids and not final:
                with self.lock:
                    self.suspects.append((labels, until))
        return found
