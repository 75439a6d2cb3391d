"""ListSession: one page of sessions, or page N reached through NextToken, read as the official
SDK 0.13.1 reads it (the paging fields are the reply's own; a failed page keeps its request id)."""

from __future__ import annotations

import json
from typing import Any

from ..models.params import check_labels
from ..models.results import SessionListResult, SessionSummary
from .calls import Op, call
from .codec import Envelope, text
from .ops import Context, guarded, require_positive


def _summary(row: dict[str, Any]) -> SessionSummary:
    return SessionSummary(
        session_id=text(row, "SessionId"),
        status=text(row, "SessionStatus") or "UNKNOWN",
        app_instance_id=text(row, "AppInstanceId"),
        image_id=text(row, "ImageId"),
    )


def _count(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _list_failure(
    envelope: Envelope, message: str, limit: int, total: int = 0
) -> SessionListResult:
    return SessionListResult(
        request_id=envelope.request_id,
        success=False,
        error_message=message,
        code=envelope.code,
        http_status_code=envelope.http_status_code,
        max_results=limit,
        total_count=total,
    )


@guarded("list sessions", SessionListResult)
def list_sessions(
    ctx: Context,
    labels: dict[str, str] | None = None,
    page: int | None = None,
    limit: int | None = None,
) -> Op[SessionListResult]:
    """ListSession filtered by labels; `page=N` follows NextToken through pages 1..N.

    The paging fields are the reply's own (`TotalCount` 0 when absent, never a row count);
    an earlier page must say `Success: true` and give a NextToken."""
    labels = check_labels(labels or {})
    if page is not None and (not isinstance(page, int) or page < 1):
        raise ValueError(f"page must be an integer >= 1, got {page!r}")
    if limit is not None:
        require_positive(limit, "limit")
    limit, page = limit or 10, page or 1
    body: dict[str, Any] = {"Labels": json.dumps(labels), "MaxResults": limit}
    for number in range(1, page + 1):
        envelope = yield from call("ListSession", body, ctx.retry, check_success=False)
        top, token = envelope.body, text(envelope.body, "NextToken")
        why = envelope.message or envelope.code or "Unknown error"
        if number < page and top.get("Success") is not True:
            return _list_failure(envelope, f"Cannot reach page {page}: {why}", limit)
        if number < page and not token:
            message = f"Cannot reach page {page}: No more pages available"
            return _list_failure(envelope, message, limit, _count(top.get("TotalCount"), 0))
        body = {**body, "NextToken": token}
    if top.get("Success") is False:
        return _list_failure(envelope, f"Failed to list sessions: {why}", limit)
    rows = envelope.data if isinstance(envelope.data, list) else []
    sessions = [_summary(row) for row in rows if isinstance(row, dict) and text(row, "SessionId")]
    return SessionListResult(
        request_id=envelope.request_id,
        success=True,
        session_ids=[s.session_id for s in sessions],
        sessions=sessions,
        next_token=token,
        max_results=_count(top.get("MaxResults"), limit),
        total_count=_count(top.get("TotalCount"), 0),
    )
