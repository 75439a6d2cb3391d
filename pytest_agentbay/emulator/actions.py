"""One handler per API action: merged parameters in, `Data` out (or an `ApiError`)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..protocol.lifecycle import LISTED, Status
from .images import DEFAULT_IMAGE, resource_url
from .params import Params, int_param, json_param, labels_param, required
from .reply import ApiError, Ok, invalid, not_found
from .state import SessionRecord, refusal
from .tools import call_mcp_tool

if TYPE_CHECKING:
    from .core import Emulator

Handler = Callable[["Emulator", str, Params], Ok]
BROWSER_PORT = 9222
MAX_PAGE = 100


def _contexts(params: Params) -> list[dict[str, str]]:
    items = json_param(params, "PersistenceDataList", list, [])
    contexts = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("ContextId"), str):
            raise invalid("PersistenceDataList", "each item needs a string ContextId.")
        contexts.append({"contextId": item["ContextId"], "path": str(item.get("Path", ""))})
    return contexts


def create_mcp_session(emu: Emulator, key: str, params: Params) -> Ok:
    """CreateMcpSession: a RUNNING session of a known image, within the key's quota."""
    image_id = params.get("ImageId", "").strip() or DEFAULT_IMAGE
    image = emu.images.get(image_id)
    if image is None:
        known = ", ".join(sorted(emu.images))
        raise ApiError("InvalidImage.NotFound",
                       f"The specified image {image_id} is not found. Known images: {known}.")
    labels, contexts, now = labels_param(params), _contexts(params), emu.now()
    with emu.store.lock:
        limit = emu.knobs.quota_for(key)
        if limit is not None and emu.store.occupying(key) >= limit:
            raise ApiError("QuotaExceeded.McpSession",
                           f"The number of concurrent sessions has reached the quota ({limit}) "
                           "of this API key. Delete a session and try again.")
        record = SessionRecord(
            session_id=emu.ids.session_id(), api_key=key, image_id=image_id, image=image,
            labels=labels, resource_id=emu.ids.resource_id(),
            app_instance_id=emu.ids.app_instance_id(), auth_code=emu.ids.secret(),
            region_id=params.get("LoginRegionId") or "cn-hangzhou", created_at=now,
            contexts=contexts, changed_at=now)
        emu.store.sessions[record.session_id] = record
    return Ok({"SessionId": record.session_id, "ResourceId": record.resource_id,
               "AppInstanceId": record.app_instance_id, "ResourceUrl": _url(record),
               "Success": True, "VpcResource": False})


def _url(record: SessionRecord) -> str:
    return resource_url(record.image, record.resource_id, record.auth_code)


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix == "offset" and number.isdigit():
            return int(number)
    except (binascii.Error, UnicodeDecodeError):
        pass
    raise invalid("NextToken", "not a token this service issued.")


def list_session(emu: Emulator, key: str, params: Params) -> Ok:
    """ListSession: AND label filter, status/image filters, paged by an opaque NextToken."""
    status = params.get("Status", "").strip()
    if status and status not in {s.value for s in LISTED} | {Status.DELETED.value}:
        raise invalid("Status", f"unknown status {status}.")
    page_size = int_param(params, "MaxResults", 10, 1, 1000)
    page_size = min(page_size, MAX_PAGE)
    token = params.get("NextToken", "").strip()
    start = _offset(token) if token else 0
    want = {"labels": labels_param(params), "status": status, "image_id": params.get("ImageId")}
    with emu.store.lock:
        found = emu.store.listing(key, emu.now(), emu.knobs.settle_seconds, want)
        page = found[start:start + page_size]
        items = [{"SessionId": r.session_id, "SessionStatus": r.status.value,
                  "AppInstanceId": r.app_instance_id, "ImageId": r.image_id} for r in page]
    more = start + page_size < len(found)
    return Ok(items, {"NextToken": _token(start + page_size) if more else "",
                      "MaxResults": page_size, "TotalCount": len(found)})


def _reported(emu: Emulator, key: str, params: Params, *, finished: bool) -> SessionRecord:
    record = emu.store.find(key, required(params, "SessionId"), finished=finished)
    record.settle(emu.now(), emu.knobs.settle_seconds, reporting=True)
    return record


def get_session(emu: Emulator, key: str, params: Params) -> Ok:
    """GetSession: the status a poll should see; not found once FINISH."""
    with emu.store.lock:
        record = _reported(emu, key, params, finished=False)
        if record.status == Status.FINISH:
            raise not_found()
        return Ok({"SessionId": record.session_id, "Status": record.status.value,
                   "AppInstanceId": record.app_instance_id, "ResourceId": record.resource_id,
                   "ResourceUrl": _url(record), "VpcResource": False})


def get_session_detail(emu: Emulator, key: str, params: Params) -> Ok:
    """GetSessionDetail: also answers FINISH for deleted sessions it knew."""
    with emu.store.lock:
        record = _reported(emu, key, params, finished=True)
        return Ok({"Id": record.session_id, "Status": record.status.value,
                   "AppInstanceId": record.app_instance_id, "ImageId": record.image_id,
                   "ImageType": record.image.os, "BizType": record.image.resource_type,
                   "IsDeleted": record.status == Status.FINISH, "RegionId": record.region_id,
                   "EndReason": "Deleted" if record.status == Status.FINISH else ""})


def _move(emu: Emulator, key: str, params: Params, action: str) -> SessionRecord:
    with emu.store.lock:
        record = emu.session(key, required(params, "SessionId"))
        record.move(action, emu.now())
        return record


def pause_session(emu: Emulator, key: str, params: Params) -> Ok:
    """PauseSessionAsync: PAUSING at once, PAUSED once settled."""
    _move(emu, key, params, "PauseSessionAsync")
    return Ok()


def resume_session(emu: Emulator, key: str, params: Params) -> Ok:
    """ResumeSessionAsync: RESUMING at once, RUNNING once settled."""
    _move(emu, key, params, "ResumeSessionAsync")
    return Ok()


def delete_session(emu: Emulator, key: str, params: Params) -> Ok:
    """DeleteSessionAsync: DELETING at once; commands are killed and files removed now."""
    with emu.store.lock:
        record = _move(emu, key, params, "DeleteSessionAsync")
        sandbox, record.sandbox = record.sandbox, None
    if sandbox is not None:
        emu.close_sandboxes([sandbox])
    return Ok()


def get_mcp_resource(emu: Emulator, key: str, params: Params) -> Ok:
    """GetMcpResource: the session's resource URL and desktop info."""
    record = emu.session(key, required(params, "SessionId"))
    return Ok({"SessionId": record.session_id, "ResourceUrl": _url(record),
               "DesktopInfo": {"AppId": record.app_instance_id, "AuthCode": record.auth_code,
                               "ConnectionProperties": "", "ResourceId": record.resource_id,
                               "ResourceType": record.image.resource_type,
                               "Ticket": emu.ids.secret()}})


def get_label(emu: Emulator, key: str, params: Params) -> Ok:
    """GetLabel: the labels as a JSON string."""
    record = emu.session(key, required(params, "SessionId"))
    with emu.store.lock:
        return Ok({"Labels": json.dumps(record.labels)})


def set_label(emu: Emulator, key: str, params: Params) -> Ok:
    """SetLabel: replace the labels."""
    record = emu.session(key, required(params, "SessionId"))
    required(params, "Labels")
    labels = labels_param(params)
    with emu.store.lock:
        record.labels = labels
    return Ok()


def get_link(emu: Emulator, key: str, params: Params) -> Ok:
    """GetLink: a URL for a port of the session (emulated; nothing listens there)."""
    record = emu.session(key, required(params, "SessionId"))
    scheme = params.get("ProtocolType", "").strip().lower() or "https"
    if scheme not in ("http", "https", "ws", "wss"):
        raise invalid("ProtocolType", "use http, https, ws or wss.")
    port = int_param(params, "Port", 30100, 30100, 30199)
    return Ok({"Url": f"{scheme}://emulator.agentbay.invalid/{record.session_id}/{port}/"})


def init_browser(emu: Emulator, key: str, params: Params) -> Ok:
    """InitBrowser: the browser's port, on images that have a browser."""
    record = emu.session(key, required(params, "SessionId"))
    json_param(params, "BrowserOption", dict, {})
    if not record.image.has_browser:
        raise ApiError("InvalidImage.BrowserNotSupported",
                       f"Image {record.image_id} has no browser; use browser_latest "
                       "or an image that offers the browser tools.")
    with emu.store.lock:
        if record.status != Status.RUNNING:
            raise refusal(record, "InitBrowser")
        record.browser_port = BROWSER_PORT
    return Ok({"Port": BROWSER_PORT})


def sync_context(emu: Emulator, key: str, params: Params) -> Ok:
    """SyncContext: an upload that completes at once."""
    record = emu.session(key, required(params, "SessionId"))
    now = int(emu.now())
    item = {"contextId": params.get("ContextId", ""), "path": params.get("Path", ""),
            "status": "Success", "taskType": "upload", "startTime": now, "finishTime": now,
            "errorMessage": ""}
    with emu.store.lock:
        record.synced = [*record.synced, item]
    return Ok()


def get_context_info(emu: Emulator, key: str, params: Params) -> Ok:
    """GetContextInfo: finished downloads for PersistenceDataList, and finished uploads."""
    record = emu.session(key, required(params, "SessionId"))
    now = int(record.created_at)
    items: list[dict[str, Any]] = [
        {**c, "status": "Success", "taskType": "download", "startTime": now,
         "finishTime": now, "errorMessage": ""} for c in record.contexts]
    items += record.synced
    for name, field in (("ContextId", "contextId"), ("Path", "path"), ("TaskType", "taskType")):
        if params.get(name):
            items = [item for item in items if item[field] == params[name]]
    status = json.dumps([{"type": "data", "data": json.dumps(items)}]) if items else ""
    return Ok({"ContextStatus": status})


ACTIONS: dict[str, Handler] = {
    "CreateMcpSession": create_mcp_session,
    "ListSession": list_session,
    "GetSession": get_session,
    "GetSessionDetail": get_session_detail,
    "DeleteSessionAsync": delete_session,
    "PauseSessionAsync": pause_session,
    "ResumeSessionAsync": resume_session,
    "GetMcpResource": get_mcp_resource,
    "GetLabel": get_label,
    "SetLabel": set_label,
    "GetLink": get_link,
    "InitBrowser": init_browser,
    "SyncContext": sync_context,
    "GetContextInfo": get_context_info,
    "CallMcpTool": call_mcp_tool,
}
