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
    SessionPauseResult,
    SessionResumeResult,
)
from .calls import Op, call
from .codec import Envelope, Sleep, as_dict, text
from .context_sync import sync_before_delete
from .lifecycle import POLL_INTERVAL_S, POLL_TARGETS, WAIT_TIMEOUT_S, Status
from .listing import list_sessions as list_sessions
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
# Deletion usually completes within a moment: poll again almost at once (a local backend is
# done by then; the cloud pays one cheap extra call), then from 0.05 s back off to the SDK's 1 s.
DELETE_FIRST_POLL = 0.001
DELETE_SECOND_POLL = 0.05
DELETE_LIMIT_S = 300.0


def _data_object(envelope: Envelope) -> dict[str, Any]:
    """`Data` as an object (none counts as empty); anything else is an error with the request id."""
    if envelope.data is None or isinstance(envelope.data, dict):
        return envelope.data or {}
    raise ProtocolError(
        f"Invalid response format: 'Data' is a {type(envelope.data).__name__}, not an object",
        request_id=envelope.request_id,
    )


def _require_success(envelope: Envelope) -> None:
    """GetSession's reply must say `Success: true`: a reply that does not is refused."""
    if envelope.body.get("Success") is not True:
        raise ApiError(
            envelope.message or "Unknown error",
            code=envelope.code,
            request_id=envelope.request_id,
            http_status=envelope.http_status_code,
        )


def _session_data(
    data: dict[str, Any], image_id: str = "", request_id: str = "", asked: str = ""
) -> SessionData:
    session_id = text(data, "SessionId") or asked
    if not session_id:
        raise ProtocolError("SessionId not found in response", request_id=request_id)
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
    data = _data_object(envelope)
    if data.get("Success") is False:
        raise ApiError(text(data, "ErrMsg") or "refused", request_id=envelope.request_id)
    found = _session_data(data, params.image_id or "", envelope.request_id)
    return SessionDataResult(request_id=envelope.request_id, success=True, data=found)


@guarded("get session", GetSessionResult)
def get_session(ctx: Context, session_id: str) -> Op[GetSessionResult]:
    """GetSession: the raw session record."""
    require_id(session_id)
    envelope = yield from call("GetSession", {"SessionId": session_id}, ctx.retry)
    _require_success(envelope)
    data = _data_object(envelope)
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
        data=record if envelope.data is not None else None,
    )


@guarded("get session", SessionDataResult)
def get(ctx: Context, session_id: str) -> Op[SessionDataResult]:
    """GetSession, as the data a client binds to a Session object."""
    require_id(session_id)
    envelope = yield from call("GetSession", {"SessionId": session_id}, ctx.retry)
    _require_success(envelope)
    data = _data_object(envelope)  # without a SessionId, the session is the one asked for
    found = _session_data(data, request_id=envelope.request_id, asked=session_id)
    return SessionDataResult(request_id=envelope.request_id, success=True, data=found)


@guarded("delete session", DeleteResult)
def delete(ctx: Context, session_id: str, sync_context: bool = False) -> Op[DeleteResult]:
    """DeleteSessionAsync, then GetSessionDetail (at once, after 1 ms, then after 0.05 s
    doubling up to every second) until FINISH or not-found, for at most 300 s."""
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
        waited, delay = waited + delay, min(max(delay * 2, DELETE_SECOND_POLL), 1.0)
    else:
        raise ApiError(
            f"session {session_id} still not deleted after {DELETE_LIMIT_S:.0f} s",
            request_id=envelope.request_id,
        )
    return DeleteResult(request_id=envelope.request_id, success=True)


def _transition(
    ctx: Context, action: str, session_id: str, timeout: float | None, poll_interval: float
) -> Op[tuple[str, str, str]]:
    """Send Pause/ResumeSessionAsync; with a timeout, poll GetSession until the goal status.

    Returns the request id, the last status seen, and what went wrong ("" if nothing)."""
    require_id(session_id)
    if timeout is not None:
        require_positive(timeout, "timeout")
        require_positive(poll_interval, "poll_interval")
    target = POLL_TARGETS[action]
    envelope = yield from call(action, {"SessionId": session_id}, ctx.retry)
    if timeout is None:
        return envelope.request_id, next(iter(target.passing)).value, ""
    status = ""
    for _ in range(max(1, math.ceil(timeout / poll_interval))):
        try:
            got = yield from call("GetSession", {"SessionId": session_id}, ctx.retry)
            status = text(as_dict(got.data), "Status")
        except ApiError:
            status = ""  # a failed poll is not a verdict; keep polling, as the SDK does
        verdict = target.verdict(status) if status else None
        if verdict is False:
            return envelope.request_id, status, f"session entered error state: {status}"
        if verdict:
            return envelope.request_id, status, ""
        yield Sleep(poll_interval)
    why = f"timed out after {timeout} s waiting for {target.goal.value}"
    return envelope.request_id, status, f"{why} (last status {status or '?'})"


def _waiting(action: str, result: type[W], doing: str) -> Callable[..., Op[W]]:
    """Pause or resume: send `action`; with a timeout, poll until the goal status."""

    @guarded(doing, result)
    def operation(
        ctx: Context,
        session_id: str,
        timeout: float | None = WAIT_TIMEOUT_S,
        poll_interval: float = POLL_INTERVAL_S,
    ) -> Op[W]:
        request_id, status, problem = yield from _transition(
            ctx, action, session_id, timeout, poll_interval
        )
        if problem:  # the status reached is part of the answer, as the official SDK gives it
            message = f"Failed to {doing}: {problem} (request id {request_id})"
            return result(request_id=request_id, status=status, error_message=message)
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


@guarded("keep session alive", OperationResult)
def keep_alive(ctx: Context, session_id: str) -> Op[OperationResult]:
    """RefreshSessionIdleTime: restart the session's idle time (its idle_release_timeout)."""
    body = {"SessionId": require_id(session_id)}
    envelope = yield from call("RefreshSessionIdleTime", body, ctx.retry)
    return OperationResult(request_id=envelope.request_id, success=True)


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
    return OperationResult(request_id=envelope.request_id, success=True)
