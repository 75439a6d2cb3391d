"""The session lifecycle: one table of states and transitions, for the emulator and the client.

The emulator applies `TRANSITIONS` when an action arrives and `SETTLES` when its clock has run
long enough; the client's polling loops read `POLL_TARGETS` to know when to stop and which
statuses mean something went wrong.
"""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """Session status strings exactly as the service spells them."""

    RUNNING = "RUNNING"
    PAUSING = "PAUSING"
    PAUSED = "PAUSED"
    RESUMING = "RESUMING"
    DELETING = "DELETING"
    DELETED = "DELETED"
    FINISH = "FINISH"  # GetSessionDetail's word for a completed deletion


# (status now, action) -> status right after the action is accepted. A pair that is missing is
# refused. Repeating a pause or resume is an idempotent success, as on the service.
TRANSITIONS: dict[tuple[Status, str], Status] = {
    (Status.RUNNING, "PauseSessionAsync"): Status.PAUSING,
    (Status.PAUSING, "PauseSessionAsync"): Status.PAUSING,
    (Status.PAUSED, "PauseSessionAsync"): Status.PAUSED,
    (Status.PAUSED, "ResumeSessionAsync"): Status.RESUMING,
    (Status.RESUMING, "ResumeSessionAsync"): Status.RESUMING,
    (Status.RUNNING, "ResumeSessionAsync"): Status.RUNNING,
    (Status.RUNNING, "DeleteSessionAsync"): Status.DELETING,
    (Status.PAUSING, "DeleteSessionAsync"): Status.DELETING,
    (Status.RESUMING, "DeleteSessionAsync"): Status.DELETING,
    (Status.DELETING, "DeleteSessionAsync"): Status.DELETING,
}

# Transitional status -> the status it settles to once the backend's settle time has passed.
SETTLES: dict[Status, Status] = {
    Status.PAUSING: Status.PAUSED,
    Status.RESUMING: Status.RUNNING,
    Status.DELETING: Status.FINISH,
}

# Statuses in which a session runs tools (commands, agent tasks).
ACCEPTS_TOOLS = frozenset({Status.RUNNING})

# Statuses ListSession shows; a finished session has left the list.
LISTED = frozenset(Status) - {Status.FINISH, Status.DELETED}


# What GetSession reports when a pause or resume went wrong.
FAILURE_STATUSES = frozenset({"ERROR", "FAILED"})


class PollTarget:
    """What a polling loop waits for: the goal status and the statuses that may come before it."""

    def __init__(self, goal: Status, passing: frozenset[Status]) -> None:
        self.goal = goal
        self.passing = passing

    def verdict(self, status: str) -> bool | None:
        """True once at the goal, False on a failure status, None otherwise: any other status
        (even one off the way, such as DELETING) keeps the poll going, as in the official SDK
        0.13.1, whose waits end early only on ERROR or FAILED."""
        if status == self.goal:
            return True
        return False if status in FAILURE_STATUSES else None


# How long `pause()`/`resume()` wait for the goal status by default, and how often they look:
# the official SDK's defaults.
WAIT_TIMEOUT_S: float = 600
POLL_INTERVAL_S = 2.0

POLL_TARGETS: dict[str, PollTarget] = {
    "PauseSessionAsync": PollTarget(Status.PAUSED, frozenset({Status.PAUSING})),
    "ResumeSessionAsync": PollTarget(Status.RUNNING, frozenset({Status.RESUMING})),
}


def next_status(status: Status, action: str) -> Status | None:
    """The status after `action` is accepted in `status`, or None when the action is refused."""
    return TRANSITIONS.get((status, action))
