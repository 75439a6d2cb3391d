"""Session operations, each written once as a generator: create, list, get, delete, pause."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, TypeVar

from .._version import __version__
from ..errors import ApiError, ProtocolError
from ..models.params import CreateSessionParams, check_labels
from ..models.results import (
    DeleteResult,
    GetSessionData,
    GetSessionResult,
    OperationResult,
    SessionData,
    SessionDataResult,
    SessionInfo,
    SessionListResult,
    SessionPauseResult,
    SessionResumeResult,
    SessionSummary,
)
from .calls import Op, call
from .codec import Sleep, as_dict, text
from .context_sync import sync_before_delete
from .lifecycle import POLL_INTERVAL_S, POLL_TARGETS, WAIT_TIMEOUT_S, Status
from .ops import Context, guarded, require_id, require_positive

SDK_STATS = json.dumps(
    {
        "source": "sdk",
        "sdk_language": "python",
        "sdk_version": __version__,
        "is_release": True,
        "framework": "pytest-agentbay",
    },
    separators=(",", ":"),
)
W = TypeVar("W", SessionPauseResult, SessionResumeResult)
NOT_FOUND = "InvalidMcpSession.NotFound"
# Deletion usually completes within a moment: poll soon, then back off to the SDK's 1 s.
DELETE_FIRST_POLL = 0.05
DELETE_LIMIT_S = 300.0


def _session_data(data: dict[str, Any], image_id: str = "") -> SessionData:
    session_id = text(data, "SessionId")
    if not session_id:
        raise ProtocolError("SessionId not found in response")
    return SessionData(
        session_id=session_id,
        resource_url=text(data, "ResourceUrl"),
        app_instance_id=text(data, "AppInstanceId"),
        resource_id=text(data, "ResourceId"),
        image_id=text(data, "ImageId") or image_id,
    )


@guarded("create session", SessionDataResult)
def create(ctx: Context, params: CreateSessionParams | None = None) -> Op[SessionDataResult]:
    """CreateMcpSession with the image, labels and settings of `params`."""
    params = params or CreateSessionParams()
    body: dict[str, Any] = {"LoginRegionId": ctx.region_id, "SdkStats": SDK_STATS}
    optional = {
        "ImageId": params.image_id,
        "Labels": json.dumps(params.labels) if params.labels else None,
        "Timeout": params.idle_release_timeout,
        "McpPolicyId": params.policy_id,
        "EnableRecord": params.enable_browser_replay,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    envelope = yield from call("CreateMcpSession", body, ctx.retry)
    data = as_dict(envelope.data)
    if data.get("Success") is False:
        raise ApiError(text(data, "ErrMsg") or "refused", request_id=envelope.request_id)
    found = _session_data(data, params.image_id or "")
    return SessionDataResult(request_id=envelope.request_id, success=True, data=found)


def _summary(row: dict[str, Any]) -> SessionSummary:
    return SessionSummary(
        session_id=text(row, "SessionId"),
        status=text(row, "SessionStatus") or "UNKNOWN",
        app_instance_id=text(row, "AppInstanceId"),
        image_id=text(row, "ImageId"),
    )


@guarded("list sessions", SessionListResult)
def list_sessions(
    ctx: Context,
    labels: dict[str, str] | None = None,
    page: int | None = None,
    limit: int | None = None,
) -> Op[SessionListResult]:
    """ListSession filtered by labels; `page=N` follows NextToken through pages 1..N."""
    labels = check_labels(labels or {})
    if page is not None and (not isinstance(page, int) or page < 1):
        raise ValueError(f"page must be an integer >= 1, got {page!r}")
    if limit is not None:
        require_positive(limit, "limit")
    body: dict[str, Any] = {"Labels": json.dumps(labels), "MaxResults": limit or 10}
    for number in range(1, (page or 1) + 1):
        envelope = yield from call("ListSession", body, ctx.retry)
        token = text(envelope.body, "NextToken")
        if number < (page or 1):
            if not token:
                raise ApiError(f"Cannot reach page {page}: No more pages available")
            body = {**body, "NextToken": token}
    sessions = [_summary(as_dict(row)) for row in envelope.data or []]
    top = envelope.body
    return SessionListResult(
        request_id=envelope.request_id,
        success=True,
        session_ids=[s.session_id for s in sessions],
        sessions=sessions,
        next_token=token,
        max_results=int(top.get("MaxResults") or body["MaxResults"]),
        total_count=int(top.get("TotalCount") or len(sessions)),
    )


@guarded("get session", GetSessionResult)
def get_session(ctx: Context, session_id: str) -> Op[GetSessionResult]:
    """GetSession: the raw session record."""
    require_id(session_id)
    envelope = yield from call("GetSession", {"SessionId": session_id}, ctx.retry)
    data = as_dict(envelope.data)
    record = GetSessionData(
        session_id=text(data, "SessionId"),
        status=text(data, "Status"),
        app_instance_id=text(data, "AppInstanceId"),
        resource_id=text(data, "ResourceId"),
        resource_url=text(data, "ResourceUrl"),
        token=text(data, "Token"),
        link_url=text(data, "LinkUrl"),
        ws_url=text(data, "WsUrl", "wsUrl"),
        http_port=text(data, "HttpPort"),
        network_interface_ip=text(data, "NetworkInterfaceIp"),
        vpc_resource=bool(data.get("VpcResource")),
    )
    return GetSessionResult(
        request_id=envelope.request_id,
        success=True,
        code=envelope.code,
        http_status_code=envelope.http_status_code,
        data=record if data else None,
    )


@guarded("get session", SessionDataResult)
def get(ctx: Context, session_id: str) -> Op[SessionDataResult]:
    """GetSession, as the data a client binds to a Session object."""
    require_id(session_id)
    envelope = yield from call("GetSession", {"SessionId": session_id}, ctx.retry)
    found = _session_data(as_dict(envelope.data))
    return SessionDataResult(request_id=envelope.request_id, success=True, data=found)


@guarded("delete session", DeleteResult)
def delete(ctx: Context, session_id: str, sync_context: bool = False) -> Op[DeleteResult]:
    """DeleteSessionAsync, then GetSessionDetail (after 0.05 s, doubling up to every second)
    until FINISH or not-found, for at most 300 s."""
    require_id(session_id)
    if sync_context:
        yield from sync_before_delete(ctx, session_id)
    envelope = yield from call("DeleteSessionAsync", {"SessionId": session_id}, ctx.retry)
    waited, delay = 0.0, DELETE_FIRST_POLL
    while waited < DELETE_LIMIT_S:
        try:
            detail = yield from call(
                "GetSessionDetail", {}, ctx.retry, query={"SessionId": session_id}
            )
            if text(as_dict(detail.data), "Status") == Status.FINISH:
                break
        except ApiError as error:
            if error.code == NOT_FOUND or "not found" in error.message.lower():
                break
        yield Sleep(delay)
        waited, delay = waited + delay, min(delay * 2, 1.0)
    else:
        raise ApiError(f"session {session_id} still not deleted after {DELETE_LIMIT_S:.0f} s")
    return DeleteResult(request_id=envelope.request_id, success=True)


def _transition(
    ctx: Context, action: str, session_id: str, timeout: float | None, poll_interval: float
) -> Op[tuple[str, str]]:
    """Send Pause/ResumeSessionAsync; with a timeout, poll GetSession until the goal status."""
    require_id(session_id)
    if timeout is not None:
        require_positive(timeout, "timeout")
        require_positive(poll_interval, "poll_interval")
    target = POLL_TARGETS[action]
    envelope = yield from call(action, {"SessionId": session_id}, ctx.retry)
    if timeout is None:
        return envelope.request_id, next(iter(target.passing)).value
    status = ""
    for _ in range(max(1, math.ceil(timeout / poll_interval))):
        try:
            got = yield from call("GetSession", {"SessionId": session_id}, ctx.retry)
            status = text(as_dict(got.data), "Status")
        except ApiError:
            status = ""  # a failed poll is not a verdict; keep polling, as the SDK does
        verdict = target.verdict(status) if status else None
        if verdict is False:
            raise ApiError(f"session in unexpected state: {status}", request_id=envelope.request_id)
        if verdict:
            return envelope.request_id, status
        yield Sleep(poll_interval)
    raise ApiError(
        f"timed out after {timeout} s waiting for {target.goal.value} "
        f"(last status {status or '?'})",
        request_id=envelope.request_id,
    )


def _waiting(action: str, result: type[W], doing: str) -> Callable[..., Op[W]]:
    """Pause or resume: send `action`; with a timeout, poll until the goal status."""

    @guarded(doing, result)
    def operation(
        ctx: Context,
        session_id: str,
        timeout: float | None = WAIT_TIMEOUT_S,
        poll_interval: float = POLL_INTERVAL_S,
    ) -> Op[W]:
        request_id, status = yield from _transition(ctx, action, session_id, timeout, poll_interval)
        return result(request_id=request_id, success=True, status=status)

    return operation


pause = _waiting("PauseSessionAsync", SessionPauseResult, "pause session")
resume = _waiting("ResumeSessionAsync", SessionResumeResult, "resume session")


@guarded("get session info", OperationResult)
def info(ctx: Context, session_id: str) -> Op[OperationResult]:
    """GetMcpResource: the session's desktop details."""
    envelope = yield from call("GetMcpResource", {"SessionId": require_id(session_id)}, ctx.retry)
    data = as_dict(envelope.data)
    desktop = as_dict(data.get("DesktopInfo"))
    details = SessionInfo(
        session_id=text(data, "SessionId"),
        resource_url=text(data, "ResourceUrl"),
        app_id=text(desktop, "AppId"),
        auth_code=text(desktop, "AuthCode"),
        connection_properties=text(desktop, "ConnectionProperties"),
        resource_id=text(desktop, "ResourceId"),
        resource_type=text(desktop, "ResourceType"),
        ticket=text(desktop, "Ticket"),
    )
    return OperationResult(request_id=envelope.request_id, success=True, data=details)


@guarded("get labels", OperationResult)
def get_labels(ctx: Context, session_id: str) -> Op[OperationResult]:
    """GetLabel: the session's labels as a dict."""
    envelope = yield from call("GetLabel", {"SessionId": require_id(session_id)}, ctx.retry)
    raw = as_dict(envelope.data).get("Labels") or "{}"
    labels = json.loads(raw) if isinstance(raw, str) else raw
    return OperationResult(request_id=envelope.request_id, success=True, data=labels)


@guarded("set labels", OperationResult)
def set_labels(ctx: Context, session_id: str, labels: dict[str, str]) -> Op[OperationResult]:
    """SetLabel: replace the session's labels."""
    labels = check_labels(labels)
    if not labels:
        raise ValueError("labels must not be empty")
    body = {"Labels": json.dumps(labels), "SessionId": require_id(session_id)}
    envelope = yield from call("SetLabel", body, ctx.retry)
    return OperationResult(request_id=envelope.request_id, success=True, data=labels)
