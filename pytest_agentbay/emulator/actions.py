"""One handler per API action (moto's "responses"): parse the parameters, call the state
layer (`state.Store`), render `Data` (or raise an `ApiError`). No handler takes a lock."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from ..protocol.lifecycle import LISTED, Status
from .expiry import expiry_of
from .form import Params, int_param, json_param, labels_param, required
from .images import DEFAULT_IMAGE, resource_url
from .mcp import call_mcp_tool
from .records import NewSession, SessionRecord
from .reply import ApiError, Ok, invalid
from .state import Store

Handler = Callable[[Store, str, Params], Ok]
MAX_PAGE = 100


def _contexts(params: Params) -> list[dict[str, str]]:
    items = json_param(params, "PersistenceDataList", list, [])
    contexts = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("ContextId"), str):
            raise invalid("PersistenceDataList", "each item needs a string ContextId.")
        contexts.append({"contextId": item["ContextId"], "path": str(item.get("Path", ""))})
    return contexts


def create_mcp_session(store: Store, key: str, params: Params) -> Ok:
    """CreateMcpSession: a RUNNING session of a known image, within the key's quota."""
    image_id = params.get("ImageId", "").strip() or DEFAULT_IMAGE
    image = store.images.get(image_id)
    if image is None:
        known = ", ".join(sorted(store.images))
        raise ApiError("InvalidImage.NotFound",
                       f"The specified image {image_id} is not found. Known images: {known}.")
    expiry = expiry_of(params)
    new = NewSession(image_id, image, labels_param(params), _contexts(params),
                     params.get("LoginRegionId") or "cn-hangzhou", expiry.idle, expiry.runtime)
    record = store.create(key, new)
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


def list_session(store: Store, key: str, params: Params) -> Ok:
    """ListSession: AND label filter, status/image filters, paged by an opaque NextToken."""
    status = params.get("Status", "").strip()
    if status and status not in {s.value for s in LISTED} | {Status.DELETED.value}:
        raise invalid("Status", f"unknown status {status}.")
    page_size = int_param(params, "MaxResults", 10, 1, 1000)
    page_size = min(page_size, MAX_PAGE)
    token = params.get("NextToken", "").strip()
    start = _offset(token) if token else 0
    want = {"labels": labels_param(params), "status": status, "image_id": params.get("ImageId")}
    found = store.listing(key, want)
    items = [{"SessionId": r.session_id, "SessionStatus": s.value,
              "AppInstanceId": r.app_instance_id, "ImageId": r.image_id}
             for r, s in found[start:start + page_size]]
    more = start + page_size < len(found)
    return Ok(items, {"NextToken": _token(start + page_size) if more else "",
                      "MaxResults": page_size, "TotalCount": len(found)})


def get_session(store: Store, key: str, params: Params) -> Ok:
    """GetSession: the status a poll should see; not found once FINISH."""
    record, status = store.report(key, required(params, "SessionId"), finished=False)
    return Ok({"SessionId": record.session_id, "Status": status.value,
               "AppInstanceId": record.app_instance_id, "ResourceId": record.resource_id,
               "ResourceUrl": _url(record), "VpcResource": False})


def get_session_detail(store: Store, key: str, params: Params) -> Ok:
    """GetSessionDetail: also answers FINISH for deleted sessions it knew."""
    record, status = store.report(key, required(params, "SessionId"), finished=True)
    finished = status == Status.FINISH
    return Ok({"Id": record.session_id, "Status": status.value,
               "AppInstanceId": record.app_instance_id, "ImageId": record.image_id,
               "ImageType": record.image.os, "BizType": record.image.resource_type,
               "IsDeleted": finished, "RegionId": record.region_id,
               "EndReason": (record.end_reason or "Deleted") if finished else ""})


def pause_session(store: Store, key: str, params: Params) -> Ok:
    """PauseSessionAsync: PAUSING at once, PAUSED once settled."""
    store.move(key, required(params, "SessionId"), "PauseSessionAsync")
    return Ok()


def resume_session(store: Store, key: str, params: Params) -> Ok:
    """ResumeSessionAsync: RESUMING at once, RUNNING once settled."""
    store.move(key, required(params, "SessionId"), "ResumeSessionAsync")
    return Ok()


def delete_session(store: Store, key: str, params: Params) -> Ok:
    """DeleteSessionAsync: DELETING at once; commands are killed and files removed now."""
    store.move(key, required(params, "SessionId"), "DeleteSessionAsync")
    return Ok()


def refresh_session_idle_time(store: Store, key: str, params: Params) -> Ok:
    """RefreshSessionIdleTime (`session.keep_alive()`): a call naming the session, which is
    all it takes to restart its idle time (see `expiry`)."""
    store.session(key, required(params, "SessionId"))
    return Ok()


def get_mcp_resource(store: Store, key: str, params: Params) -> Ok:
    """GetMcpResource: the session's resource URL and desktop info."""
    record = store.session(key, required(params, "SessionId"))
    return Ok({"SessionId": record.session_id, "ResourceUrl": _url(record),
               "DesktopInfo": {"AppId": record.app_instance_id, "AuthCode": record.auth_code,
                               "ConnectionProperties": "", "ResourceId": record.resource_id,
                               "ResourceType": record.image.resource_type,
                               "Ticket": store.ids.secret()}})


def get_label(store: Store, key: str, params: Params) -> Ok:
    """GetLabel: the labels as a JSON string."""
    return Ok({"Labels": json.dumps(store.labels(key, required(params, "SessionId")))})


def set_label(store: Store, key: str, params: Params) -> Ok:
    """SetLabel: replace the labels."""
    session_id = required(params, "SessionId")
    store.session(key, session_id)  # an unknown session is named before bad labels
    required(params, "Labels")
    store.set_labels(key, session_id, labels_param(params))
    return Ok()


def get_link(store: Store, key: str, params: Params) -> Ok:
    """GetLink: a URL for a port of the session (emulated; nothing listens there)."""
    record = store.session(key, required(params, "SessionId"))
    scheme = params.get("ProtocolType", "").strip().lower() or "https"
    if scheme not in ("http", "https", "ws", "wss"):
        raise invalid("ProtocolType", "use http, https, ws or wss.")
    port = int_param(params, "Port", 30100, 30100, 30199)
    return Ok({"Url": f"{scheme}://emulator.agentbay.invalid/{record.session_id}/{port}/"})


def init_browser(store: Store, key: str, params: Params) -> Ok:
    """InitBrowser: the browser's port, on images that have a browser."""
    record = store.session(key, required(params, "SessionId"))
    json_param(params, "BrowserOption", dict, {})
    if not record.image.has_browser:
        raise ApiError("InvalidImage.BrowserNotSupported",
                       f"Image {record.image_id} has no browser; use browser_latest "
                       "or an image that offers the browser tools.")
    return Ok({"Port": store.open_browser(record, "InitBrowser", running=True)})


def sync_context(store: Store, key: str, params: Params) -> Ok:
    """SyncContext: an upload that completes at once."""
    session_id = required(params, "SessionId")
    now = int(store.clock.now())
    item = {"contextId": params.get("ContextId", ""), "path": params.get("Path", ""),
            "status": "Success", "taskType": "upload", "startTime": now, "finishTime": now,
            "errorMessage": ""}
    store.add_upload(key, session_id, item)
    return Ok()


def get_context_info(store: Store, key: str, params: Params) -> Ok:
    """GetContextInfo: finished downloads for PersistenceDataList, and finished uploads."""
    record = store.session(key, required(params, "SessionId"))
    now = int(record.created_at)
    items: list[dict[str, Any]] = [
        {**c, "status": "Success", "taskType": "download", "startTime": now,
         "finishTime": now, "errorMessage": ""} for c in record.contexts]
    items += store.uploads(record)
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
    "RefreshSessionIdleTime": refresh_session_idle_time,
    "GetMcpResource": get_mcp_resource,
    "GetLabel": get_label,
    "SetLabel": set_label,
    "GetLink": get_link,
    "InitBrowser": init_browser,
    "SyncContext": sync_context,
    "GetContextInfo": get_context_info,
    "CallMcpTool": call_mcp_tool,
}
