"""Match keys: when two AgentBay requests count as the same request for replay."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from ..labels import LABEL_PREFIX

Params = dict[str, str]
Key = tuple[tuple[str, str], ...]

IGNORED = frozenset(
    {"Timestamp", "SignatureNonce", "Authorization", "SdkStats", "LoginRegionId", "Timeout"}
)
"""Parameters that differ between runs without changing what is asked (LoginRegionId follows
the region the recording run happened to use; Timeout is the session's idle expiry, which the
plugin sets from --agentbay-session-expiry and which never changes a reply)."""

JSON_FIELDS = frozenset({"Labels", "Args", "BrowserOption", "PersistenceDataList", "Skills"})
"""Form fields that carry JSON documents: compared as parsed JSON, never as strings."""

_FIRST = ("SessionId", "Name", "Args", "Labels")  # what people look at first in a message
_UNSHOWN = IGNORED | {"Action", "Format", "Version"}  # the same in every request


def form_fields(body: Any) -> list[tuple[str, str]]:
    """The fields of a form body, whatever shape the HTTP library gave it in."""
    if body is None:
        return []
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        return parse_qsl(body, keep_blank_values=True)
    items = body.items() if isinstance(body, Mapping) else body
    return [(str(name), str(value)) for name, value in items]


def request_params(method: str, uri: str, body: Any) -> Params | None:
    """Query and form parameters of an AgentBay API call; None for any other request."""
    query = uri.partition("?")[2]
    if method.upper() != "POST" or "Action=" not in query:
        return None
    params = dict(parse_qsl(query, keep_blank_values=True))
    if "Action" not in params:
        return None
    try:
        params.update(form_fields(body))
    except (TypeError, ValueError):
        return None
    return params


@functools.lru_cache(maxsize=512)  # the same commands and labels recur from test to test
def _canonical(name: str, value: str) -> str:
    try:
        document = json.loads(value)
    except ValueError:
        return value
    if name == "Labels" and isinstance(document, dict):
        # The plugin's own tags (run id, worker, creation time) change with every run.
        document = {k: v for k, v in document.items() if not k.startswith(LABEL_PREFIX)}
    return json.dumps(document, sort_keys=True, ensure_ascii=False)


def match_key(params: Mapping[str, str]) -> Key:
    """What replay compares: every parameter but the ignored ones, JSON fields parsed."""
    return tuple(
        sorted(
            (name, _canonical(name, value) if name in JSON_FIELDS else value)
            for name, value in params.items()
            if name not in IGNORED
        )
    )


def describe(params: Mapping[str, str], limit: int = 160) -> str:
    """`Action SessionId=... Name=... Args=...` for people, long values shortened."""
    shown = [n for n in _FIRST if n in params]
    shown += sorted(n for n in params if n not in _FIRST and n not in _UNSHOWN)
    parts = [params.get("Action", "?")]
    for name in shown:
        value = params[name]
        parts.append(f"{name}={value if len(value) <= limit else value[:limit] + '...'}")
    return " ".join(parts)


def closest(key: Key, candidates: Iterable[Key]) -> tuple[Key, list[str]] | None:
    """The candidate sharing the most parameters with `key` (same action first), and the
    names of the parameters that differ."""
    wanted = set(key)
    action = dict(key).get("Action")
    best: tuple[tuple[bool, int], Key] | None = None
    for candidate in dict.fromkeys(candidates):  # first seen wins a tie
        score = (dict(candidate).get("Action") == action, len(wanted.intersection(candidate)))
        if best is None or score > best[0]:
            best = (score, candidate)
    if best is None:
        return None
    mine, theirs = dict(key), dict(best[1])
    differ = sorted(n for n in mine.keys() | theirs.keys() if mine.get(n) != theirs.get(n))
    return best[1], differ
