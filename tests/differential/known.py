"""The documented differences from 0.13.1: each is a plain 0.13.1 bug; ours does what its
documentation says. The README's table is this list; keep the two in step."""

from __future__ import annotations

from compare import NONEMPTY, Known

KNOWN = [
    Known(
        "status spelled 'finised'",
        ("computer/status/no-status", "browser/status/no-status"),
        {"task_status": "finished"},
        "0.13.1 defaults a missing task status to the typo 'finised', which no waiter and no "
        "documented status value knows; the protocol's default is 'finished'",
    ),
    Known(
        "failed command with exit code 0",
        ("command/error-exit-0", "command/error-plain-text", "command/error-empty"),
        {"exit_code": 1},
        "0.13.1 reports a command the tool marked as failed (`isError`) with exit_code 0, "
        "the exit code of success; ours reports 1 when the reply gives no nonzero code",
    ),
    Known(
        "AgentBay.pause_async sends nothing",
        ("pause_async/",),
        {},
        "0.13.1 builds the request from the wrong module and fails before sending anything; "
        "ours sends PauseSessionAsync and reads the reply as Session.pause_async does",
        like="session.pause_async/",
    ),
    Known(
        "AgentBay.resume_async has no status",
        ("resume_async/",),
        {},
        "0.13.1's AgentBay.resume_async leaves status None (and drops the refusal's HTTP "
        "status) where Session.resume_async says RESUMING; ours answers as Session.resume_async",
        like="session.resume_async/",
    ),
    Known(
        "refusal read as success",
        ("info/refused", "get_labels/refused", "set_labels/refused",
         "create/success-false-no-code"),
        {"success": False, "error_message": NONEMPTY, "data": None, "session": None},
        "0.13.1 ignores an explicit `Success: false` in these replies (info and labels always, "
        "create when no Code comes with it) and reports success; ours reports the refusal",
    ),
    Known(
        "SessionError raised instead of a result",
        ("info/http-500", "get_labels/not-found", "set_labels/http-500"),
        {"outcome": "result"},
        "0.13.1 raises SessionError from info (errors other than not-found), get_labels and "
        "set_labels, whose documented return is an OperationResult; ours returns a failed "
        "OperationResult, as for every other call",
    ),
]
