"""Context synchronisation before a delete: SyncContext, then wait for uploads/downloads."""

from __future__ import annotations

import json
from typing import Any

from ..errors import ApiError
from .calls import Op, call
from .codec import Sleep, as_dict
from .ops import Context


def sync_before_delete(ctx: Context, session_id: str) -> Op[None]:
    """SyncContext, then GetContextInfo until every upload/download is done. Failures tolerated."""
    try:
        yield from call("SyncContext", {"SessionId": session_id}, ctx.retry, auth_in_query=True)
        delay = 0.5
        for _ in range(150):
            envelope = yield from call("GetContextInfo", {"SessionId": session_id}, ctx.retry)
            if not _pending(as_dict(envelope.data).get("ContextStatus")):
                return
            yield Sleep(delay)
            delay = min(delay * 1.1, 5.0)
    except ApiError:
        return


def _pending(status: Any) -> bool:
    try:
        groups = json.loads(status) if status else []
        items = [i for g in groups for i in json.loads(as_dict(g).get("data") or "[]")]
    except (ValueError, TypeError):
        return False
    return any(
        as_dict(i).get("taskType") in ("upload", "download")
        and as_dict(i).get("status") not in ("Success", "Failed")
        for i in items
    )
