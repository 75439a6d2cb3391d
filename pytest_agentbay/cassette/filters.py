"""Ready `before_record_request` / `before_record_response` functions for vcrpy and
pytest-recording users who record their other traffic in the same tests.

AgentBay API calls never belong in those cassettes (they go to this plugin's own, scrubbed):
the request filter drops them. Any other request or reply is scrubbed as ours are: the API key
in use (from the environment or a `.env` file, raw or URL-encoded), `Bearer` values, key shapes,
tokens and auth codes, and the query strings of signed URLs in JSON replies.
"""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

from ..env import api_key
from ..redact import redact
from .keys import request_params
from .scrub import scrub_json


def before_record_request(request: Any) -> Any:
    """vcrpy's `before_record_request`: None (not recorded) for an AgentBay API call; any other
    request as a scrubbed copy."""
    if request_params(request.method, request.uri, request.body) is not None:
        return None
    key = api_key()
    request = copy.deepcopy(request)
    request.uri = redact(request.uri, key)
    if request.body is not None:
        request.body = _scrub(request.body, key)
    for name in list(request.headers):
        request.headers[name] = redact(str(request.headers[name]), key)
    return request


def before_record_response(response: dict[str, Any]) -> dict[str, Any]:
    """vcrpy's `before_record_response`: a scrubbed copy of the reply (a body that is not
    text, such as a compressed one, is kept as it is)."""
    key = api_key()
    response = copy.deepcopy(response)
    body = response.get("body") or {}
    headers = response.get("headers") or {}
    for name, values in headers.items():
        listed = values if isinstance(values, list) else [values]
        headers[name] = [redact(str(v), key) for v in listed]
    if "string" in body:
        before = body["string"]
        body["string"] = _scrub(before, key)
        if body["string"] != before:  # a replayed reply must not claim the old length
            size = len(body["string"].encode() if isinstance(body["string"], str) else before)
            for name in headers:
                if name.lower() == "content-length":
                    headers[name] = [str(size)]
    return response


def _scrub(body: Any, key: str) -> Any:
    """A body with its secrets replaced, in the type it came in (bytes or text)."""
    raw = body
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            return raw  # not text: nothing we know how to look into
    if not isinstance(body, str):
        return raw
    text = body
    with contextlib.suppress(ValueError):  # not JSON: scrubbed as text only
        document = json.loads(body)
        scrubbed = scrub_json(document)
        if scrubbed != document:  # else keep the body byte for byte
            text = json.dumps(scrubbed, ensure_ascii=False)
    text = redact(text, key)
    return text.encode() if isinstance(raw, bytes) else text
