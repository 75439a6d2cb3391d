"""The catalogue: reply scripts in the service's shapes, each with the call that reads them.

Sources: the protocol sheet (`agentbay-protocol.md` sections 1.6-1.7, 3 and 4) and the official
SDK's own unit tests (string `Data`, `errorCode` payloads, `isError` with empty content...).
`op` is a method path on the client (`list`) or on a session (`session.command...`); the
argument `"$session"` stands for the session object. Standard library only: the official SDK's
interpreter imports this file too. Add a case whenever the sheet or a bug report teaches a
new shape.
"""

from __future__ import annotations

from typing import Any

from replies import (
    NOT_FOUND,
    SERVER_ERROR,
    bare,
    err,
    ok,
    raw,
    refused,
    status,
    task,
    tool,
)

S = "$session"
CREATED = {"SessionId": "s-9", "ResourceUrl": "https://res/?resourceId=p-9", "ResourceId": "p-9",
           "AppInstanceId": "ai-9", "Success": True}
ROWS = [{"SessionId": "s-1", "SessionStatus": "RUNNING", "AppInstanceId": "ai-1", "ImageId": "img"},
        {"SessionId": "s-2", "SessionStatus": "PAUSED"}]
RECORD = {"SessionId": "s-1", "Status": "RUNNING", "AppInstanceId": "ai-1", "ResourceId": "p-1",
          "ResourceUrl": "https://res/?resourceId=p-1", "HttpPort": "8080",
          "NetworkInterfaceIp": "10.0.0.1", "VpcResource": False, "Token": "tok", "LinkUrl": ""}
DESKTOP = {"SessionId": "s-1", "ResourceUrl": "https://res/1",
           "DesktopInfo": {"AppId": "app", "AuthCode": "ac", "ConnectionProperties": "cp",
                           "ResourceId": "p-1", "ResourceType": "AIAgent", "Ticket": "tk"}}
SHELL_OK = {"stdout": "hi\n", "stderr": "", "exit_code": 0}
SHELL_FAIL = {"errorCode": 3, "stdout": "", "stderr": "oops\n", "traceId": "tr-1"}
STARTED = tool({"task_id": "t-1"}, rid="REQ-X")
CASES: list[dict[str, Any]] = []


def case(name: str, op: str, args: dict[str, Any] | None = None, **replies: Any) -> None:
    """Add a case: `replies` maps each action to one reply or a list served in order."""
    script = {k: v if isinstance(v, list) else [v] for k, v in replies.items()}
    CASES.append({"name": name, "op": op, "args": args or {}, "replies": script})


def _create() -> None:
    c = "create"
    case("create/ok", c, {"image_id": "linux_latest"}, CreateMcpSession=ok(CREATED))
    case("create/extra-fields", c, CreateMcpSession=ok({**CREATED, "Novel": 1, "Token": "t"},
                                                       Extra="x"))
    case("create/data-success-false", c,
         CreateMcpSession=ok({"Success": False, "ErrMsg": "quota exceeded"}))
    case("create/data-success-false-no-errmsg", c, CreateMcpSession=ok({"Success": False}))
    case("create/no-session-id", c, CreateMcpSession=ok({"ResourceUrl": "https://r"}))
    case("create/refused", c, CreateMcpSession=refused("QuotaExceeded", "too many"))
    case("create/success-false-no-code", c,
         CreateMcpSession=bare({"RequestId": "R", "Success": False, "Data": CREATED}))
    case("create/http-400", c, CreateMcpSession=err("NOT_LOGIN", "You are not logged in"))
    case("create/http-500", c, CreateMcpSession=SERVER_ERROR)
    case("create/http-503-not-json", c, CreateMcpSession=raw("<html>busy</html>", 503))
    case("create/not-json-200", c, CreateMcpSession=raw("not json"))
    case("create/empty-body", c, CreateMcpSession=raw(""))
    case("create/data-list", c, CreateMcpSession=ok([CREATED]))
    case("create/no-data", c, CreateMcpSession=ok())
    case("create/throttled", c, CreateMcpSession=err("Throttling.User", "slow down"))
    case("create/no-request-id", c, CreateMcpSession=bare({"Success": True, "Data": CREATED}))
    # The official SDK's unit tests mock bare bodies: Data and RequestId only, or Data null.
    case("create/minimal-body", c, CreateMcpSession=bare(
        {"RequestId": "R-M", "Data": {"SessionId": "s-m", "ResourceUrl": "http://r"}}))
    case("create/data-null", c, CreateMcpSession=bare({"RequestId": "R-N", "Data": None}))


def _list() -> None:
    c = "list"
    page = {"NextToken": "tok-2", "MaxResults": 2, "TotalCount": 5}
    case("list/ok", c, {"labels": {"a": "b"}}, ListSession=ok(ROWS, **page))
    case("list/no-total-count", c, ListSession=ok(ROWS, NextToken="", MaxResults=10))
    case("list/total-count-zero", c, ListSession=ok(ROWS, TotalCount=0, MaxResults=10))
    case("list/empty", c, ListSession=ok([], TotalCount=0, MaxResults=10))
    case("list/no-data", c, ListSession=ok())
    case("list/no-max-results", c, {"limit": 3}, ListSession=ok(ROWS, TotalCount=2))
    case("list/row-without-status", c, ListSession=ok([{"SessionId": "s-3"}], TotalCount=1))
    case("list/row-extra-fields", c,
         ListSession=ok([{**ROWS[0], "Novel": True}], TotalCount=1, Extra=[1]))
    case("list/page-2", c, {"page": 2, "limit": 2},
         ListSession=[ok(ROWS, rid="REQ-P1", **page), ok(ROWS[:1], rid="REQ-P2", TotalCount=5)])
    case("list/page-beyond-last", c, {"page": 3},
         ListSession=[ok(ROWS, rid="REQ-P1", **page), ok(ROWS, rid="REQ-P2", TotalCount=5)])
    case("list/page-2-refused", c, {"page": 2},
         ListSession=[ok(ROWS, rid="REQ-P1", **page), refused("Forbidden", "no", rid="REQ-P2")])
    case("list/refused", c, ListSession=refused("InvalidParameter", "bad labels"))
    case("list/http-400", c, ListSession=err("InvalidParameter", "bad labels"))
    case("list/http-500", c, ListSession=SERVER_ERROR)
    case("list/not-json", c, ListSession=raw("<html/>", 502))
    case("list/minimal-body", c, ListSession=bare(
        {"Success": True, "Data": [{"SessionId": "a"}, {"SessionId": "b"}], "TotalCount": 3,
         "MaxResults": 10}))
    case("list/data-object", c, ListSession=ok({"SessionId": "s-1"}, TotalCount=1))
    case("list/row-without-id", c, ListSession=ok([{"SessionStatus": "RUNNING"}, ROWS[0]]))
    case("list/page-2-no-success-field", c, {"page": 2},
         ListSession=[bare({"RequestId": "REQ-P1", "NextToken": "t", "Data": ROWS}),
                      ok(ROWS, rid="REQ-P2")])


def _get() -> None:
    for op in ("get_session", "get"):
        args = {"session_id": "s-1"}
        case(f"{op}/ok", op, args, GetSession=ok(RECORD))
        case(f"{op}/extra-fields", op, args,
             GetSession=ok({**RECORD, "Novel": {"x": 1}, "ToolList": "[]"}, Extra=2))
        case(f"{op}/not-found", op, args, GetSession=NOT_FOUND)
        case(f"{op}/refused", op, args, GetSession=refused("Forbidden.Session", "not yours"))
        case(f"{op}/empty-data", op, args, GetSession=ok({}))
        case(f"{op}/no-data", op, args, GetSession=ok())
        case(f"{op}/contexts", op, args,
             GetSession=ok({**RECORD, "contexts": [{"id": "ctx-1", "name": "n"}]}))
        case(f"{op}/no-session-id", op, args, GetSession=ok({"Status": "RUNNING"}))
        case(f"{op}/data-json-string", op, args, GetSession=ok('{"SessionId": "s-1"}'))
        case(f"{op}/http-500", op, args, GetSession=SERVER_ERROR)
        case(f"{op}/not-json", op, args, GetSession=raw("oops", 500))
        case(f"{op}/no-success-field", op, args,
             GetSession=bare({"RequestId": "R-B", "Code": "ok", "HttpStatusCode": 200,
                              "Data": RECORD}))


def _delete() -> None:
    gone = {"GetSession": NOT_FOUND, "GetSessionDetail": ok({"Status": "FINISH"})}
    slow = {"GetSession": [status("DELETING"), status("DELETING"), NOT_FOUND],
            "GetSessionDetail": [ok({"Status": "DELETING"}), ok({"Status": "DELETING"}),
                                 ok({"Status": "FINISH"})]}
    for op, args in (("delete", {"session": S}), ("session.delete", {})):
        case(f"{op}/ok", op, args, DeleteSessionAsync=ok(rid="REQ-D"), **gone)
        case(f"{op}/polls", op, args, DeleteSessionAsync=ok(rid="REQ-D"), **slow)
        case(f"{op}/refused", op, args, DeleteSessionAsync=refused("Forbidden", "locked"))
        case(f"{op}/not-found", op, args, DeleteSessionAsync=NOT_FOUND)
        case(f"{op}/http-500", op, args, DeleteSessionAsync=SERVER_ERROR)
        case(f"{op}/not-json", op, args, DeleteSessionAsync=raw(""), **gone)
    case("delete/no-success-field", "delete", {"session": S},
         DeleteSessionAsync=bare({"RequestId": "REQ-D"}), **gone)
    case("delete/never-gone", "delete", {"session": S}, DeleteSessionAsync=ok(rid="REQ-D"),
         GetSession=status("DELETING"), GetSessionDetail=ok({"Status": "DELETING"}))


def _pause_resume() -> None:
    for op, goal, passing in (("pause", "PAUSED", "PAUSING"), ("resume", "RUNNING", "RESUMING")):
        action = "PauseSessionAsync" if op == "pause" else "ResumeSessionAsync"
        args = {"session": S, "timeout": 6, "poll_interval": 2}
        go = {action: ok(rid="REQ-A")}
        case(f"{op}/ok", op, args, **go, GetSession=[status(passing), status(goal)])
        case(f"{op}/at-once", op, args, **go, GetSession=status(goal))
        case(f"{op}/error-status", op, args, **go, GetSession=[status(passing), status("ERROR")])
        case(f"{op}/failed-status", op, args, **go, GetSession=status("FAILED"))
        case(f"{op}/timeout", op, args, **go, GetSession=status(passing))
        case(f"{op}/poll-errors", op, args, **go, GetSession=[SERVER_ERROR, status(goal)])
        case(f"{op}/poll-other-status", op, args, **go,
             GetSession=[status("DELETING"), status(goal)])
        case(f"{op}/refused", op, args, **{action: refused("InvalidStatus", "cannot")})
        case(f"{op}/http-400", op, args, **{action: NOT_FOUND})
        case(f"{op}/http-500-not-json", op, args, **{action: raw("<html/>", 500)})
        case(f"session.{op}/ok", f"session.{op}", {"timeout": 6, "poll_interval": 2}, **go,
             GetSession=[status(passing), status(goal)])
        for where, call_args in (("", {"session": S}), ("session.", {})):
            fire = f"{where}{op}_async"
            case(f"{fire}/ok", fire, call_args, **go)
            case(f"{fire}/refused", fire, call_args, **{action: refused("InvalidStatus", "no")})
            case(f"{fire}/http-400", fire, call_args, **{action: NOT_FOUND})


def _session_calls() -> None:
    case("info/ok", "session.info", GetMcpResource=ok(DESKTOP))
    case("info/no-desktop", "session.info", GetMcpResource=ok({"SessionId": "s-1"}))
    case("info/not-found", "session.info", GetMcpResource=NOT_FOUND)
    case("info/refused", "session.info", GetMcpResource=refused("Forbidden", "no"))
    case("info/http-500", "session.info", GetMcpResource=SERVER_ERROR)
    case("get_labels/ok", "session.get_labels", GetLabel=ok({"Labels": '{"a": "b"}'}))
    case("get_labels/none", "session.get_labels", GetLabel=ok({}))
    case("get_labels/not-found", "session.get_labels", GetLabel=NOT_FOUND)
    case("get_labels/refused", "session.get_labels", GetLabel=refused("Forbidden", "no"))
    labels = {"labels": {"a": "b"}}
    case("set_labels/ok", "session.set_labels", labels, SetLabel=ok())
    case("set_labels/refused", "session.set_labels", labels, SetLabel=refused("Forbidden", "no"))
    case("set_labels/http-500", "session.set_labels", labels, SetLabel=SERVER_ERROR)


def _command() -> None:
    c, args = "session.command.execute_command", {"command": "echo hi"}
    case("command/ok", c, args, CallMcpTool=tool(SHELL_OK))
    case("command/ok-data-string", c, args, CallMcpTool=tool(SHELL_OK, as_string=True))
    case("command/plain-text", c, args, CallMcpTool=tool("hi\n"))
    case("command/error-code", c, args, CallMcpTool=tool(SHELL_FAIL, is_error=True))
    case("command/error-exit-0", c, args,
         CallMcpTool=tool({**SHELL_FAIL, "errorCode": 0}, is_error=True))
    case("command/error-plain-text", c, args, CallMcpTool=tool("bash: boom", is_error=True))
    case("command/error-empty-content", c, args,
         CallMcpTool=ok({"content": [], "isError": True}))
    case("command/error-empty-text", c, args, CallMcpTool=tool("", is_error=True))
    case("command/timeout", c, {"command": "sleep 9", "timeout_ms": 1000},
         CallMcpTool=tool({"errorCode": 124, "stdout": "", "stderr": "", "traceId": "t"},
                          is_error=True))
    case("command/nonzero-without-error", c, args,
         CallMcpTool=tool({"stdout": "", "stderr": "no", "exit_code": 2, "traceId": "t"}))
    case("command/stderr-only", c, args, CallMcpTool=tool({"stderr": "warn", "exit_code": 0}))
    case("command/stdout-only", c, args, CallMcpTool=tool({"stdout": "only"}))
    case("command/json-number", c, args, CallMcpTool=tool("42"))
    case("command/error-exit-code-key", c, args,
         CallMcpTool=tool({"exit_code": 7, "stdout": "o", "stderr": ""}, is_error=True))
    case("command/unicode", c, args, CallMcpTool=tool({"stdout": "héllo ✓\n", "exit_code": 0}))
    case("command/no-data", c, args, CallMcpTool=ok())
    case("command/data-string-not-json", c, args, CallMcpTool=ok("not json"))
    case("command/no-content", c, args, CallMcpTool=ok({"isError": False}))
    case("command/not-found", c, args, CallMcpTool=NOT_FOUND)
    case("command/http-500-not-json", c, args, CallMcpTool=raw("<html/>", 500))
    case("command/refused", c, args, CallMcpTool=refused("Forbidden", "no"))


def _agents() -> None:
    for agent in ("computer", "browser"):
        a = f"session.agent.{agent}"
        run, tid = {"task": "open notepad"}, {"task_id": "t-1"}
        case(f"{agent}/execute/ok", f"{a}.execute_task", run, CallMcpTool=STARTED)
        case(f"{agent}/execute/is-error", f"{a}.execute_task", run,
             CallMcpTool=tool("agent busy", is_error=True))
        case(f"{agent}/execute/no-task-id", f"{a}.execute_task", run, CallMcpTool=tool({}))
        case(f"{agent}/execute/not-json", f"{a}.execute_task", run, CallMcpTool=tool("started"))
        case(f"{agent}/execute/http-400", f"{a}.execute_task", run, CallMcpTool=NOT_FOUND)
        case(f"{agent}/status/ok", f"{a}.get_task_status", tid,
             CallMcpTool=task("running", "half way"))
        case(f"{agent}/status/product-object", f"{a}.get_task_status", tid,
             CallMcpTool=task("finished", {"result": "done", "n": 1}))
        case(f"{agent}/status/no-status", f"{a}.get_task_status", tid, CallMcpTool=task(None))
        case(f"{agent}/status/result-not-product", f"{a}.get_task_status", tid,
             CallMcpTool=tool({"task_id": "t-1", "status": "finished", "result": "r"}))
        case(f"{agent}/status/is-error", f"{a}.get_task_status", tid,
             CallMcpTool=tool("no such task", is_error=True))
        case(f"{agent}/status/http-500", f"{a}.get_task_status", tid, CallMcpTool=SERVER_ERROR)
        case(f"{agent}/terminate/ok", f"{a}.terminate_task", tid,
             CallMcpTool=tool({"task_id": "t-1", "status": "cancelling"}))
        case(f"{agent}/terminate/no-status", f"{a}.terminate_task", tid,
             CallMcpTool=tool({"task_id": "t-1"}))
        case(f"{agent}/terminate/is-error", f"{a}.terminate_task", tid,
             CallMcpTool=tool("cannot stop", is_error=True))
        wait, three = f"{a}.execute_task_and_wait", {**run, "max_try_times": 3}
        case(f"{agent}/wait/finished", wait, three,
             CallMcpTool=[STARTED, task("running"), task("finished", "all done", rid="REQ-Z")])
        case(f"{agent}/wait/failed", wait, three, CallMcpTool=[STARTED, task("failed", "x")])
        case(f"{agent}/wait/unsupported", wait, three, CallMcpTool=[STARTED, task("unsupported")])
        case(f"{agent}/wait/timeout", wait, three, CallMcpTool=[STARTED, task("running")])
        case(f"{agent}/wait/cancelled", wait, three, CallMcpTool=[STARTED, task("cancelled")])
        case(f"{agent}/wait/product-object", wait, three,
             CallMcpTool=[STARTED, task("finished", {"answer": 42})])
        case(f"{agent}/wait/status-error", wait, three,
             CallMcpTool=[STARTED, tool("lost", is_error=True), task("finished", "ok")])
        case(f"{agent}/wait/start-fails", wait, three, CallMcpTool=NOT_FOUND)


def _browser_init() -> None:
    init = "session.agent.browser.initialize"
    case("browser/initialize/ok", init, CallMcpTool=tool("initialized"))
    case("browser/initialize/is-error", init, CallMcpTool=tool("no browser", is_error=True))
    case("browser/initialize/http-500", init, CallMcpTool=SERVER_ERROR)


for _part in (_create, _list, _get, _delete, _pause_resume, _session_calls, _command, _agents,
              _browser_init):
    _part()
