"""Scrubbing: what of a live interaction is written to a cassette, with secrets replaced and
session ids renamed to stable aliases."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import zlib
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from ..redact import REDACTED, SECRET_FIELDS, SIGNED_URL_FIELDS, redact, scrub_url, written_forms
from .keys import IGNORED, Params, form_fields

ENDPOINT = "http://agentbay.replay.invalid"
"""Where recorded requests are filed and replaying clients point: no such host exists."""

Interaction = dict[str, Any]

_DROPPED_QUERY = frozenset({"Timestamp", "SignatureNonce"})  # noise in every re-recording
_REMEMBERED, _SHORT = 1024, 256  # how many parameter values of at most how many characters
_REQUEST_HEADERS = frozenset({"content-type", "x-acs-action", "x-acs-version"})


def _keep_response_header(name: str) -> bool:
    name = name.lower()
    return name in ("content-type", "retry-after") or (
        name.startswith("x-acs-") and "token" not in name
    )


def _header_lists(headers: Any, keep: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    items = headers.items() if hasattr(headers, "items") else headers
    for name, values in items:
        if keep(str(name)):
            listed = values if isinstance(values, (list, tuple)) else [values]
            out.setdefault(str(name).lower(), []).extend(str(v) for v in listed)
    return out


def _decoded(body: bytes, headers: Mapping[str, list[str]]) -> bytes:
    """The body without its content encoding, if the HTTP library left it encoded."""
    encoding = next((v[0] for k, v in headers.items() if k.lower() == "content-encoding"), "")
    if encoding.lower() in ("gzip", "deflate"):
        try:
            return zlib.decompress(body, zlib.MAX_WBITS | 32)
        except zlib.error:
            return body  # already decoded by the library
    return body


def scrub_json(node: Any) -> Any:
    """A parsed JSON document with secret fields replaced and signed URLs unsigned."""
    if isinstance(node, dict):
        return {
            k: REDACTED
            if k in SECRET_FIELDS and isinstance(v, str) and v
            else scrub_url(v)
            if k in SIGNED_URL_FIELDS and isinstance(v, str)
            else scrub_json(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [scrub_json(v) for v in node]
    return node


class Scrubber:
    """Replaces secrets and renames session ids, the same way in what is written and in the
    live requests matched against it (so replay still matches).

    A session created while recording gets an alias derived from the cassette that recorded
    its creation and its rank there: every re-recording, and every xdist worker, names the
    same session alike, so cassettes of different scopes keep agreeing.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        forms = {form for secret in secrets for form in written_forms(secret)}
        self._secrets = sorted(forms, key=len, reverse=True)  # longest first: no partial hits
        self._aliases: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()
        # Short parameter values already scrubbed: the same actions, session ids and commands
        # recur in every request of a replayed suite.
        self._done: dict[str, str] = {}

    def alias(self, session_id: str, cassette: str, taken: set[str]) -> str:
        """The alias of `session_id`, created in `cassette`, avoiding the aliases `taken`."""
        with self._lock:
            if session_id not in self._aliases:
                rank = 1
                while True:
                    digest = hashlib.sha1(f"{cassette}#{rank}".encode()).hexdigest()
                    alias = "session-" + digest[:17]
                    if alias not in taken and alias not in self._aliases.values():
                        break
                    rank += 1
                self._aliases[session_id] = alias
                self._done = {}  # texts scrubbed before this alias existed
                self._pattern = re.compile("|".join(map(re.escape, self._aliases)))
            return self._aliases[session_id]

    def text(self, text: str) -> str:
        """`text` with session ids aliased and secrets replaced."""
        if self._pattern is not None:
            text = self._pattern.sub(lambda m: self._aliases[m.group(0)], text)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return redact(text)

    def params(self, params: Params) -> Params:
        """Parameters as they would be written (the form live requests are matched in)."""
        done = self._done  # (a new alias swaps in an empty one: see `alias`)
        out = {}
        for name, value in params.items():
            if name in IGNORED:
                out[name] = value
                continue
            scrubbed = done.get(value)
            if scrubbed is None:
                scrubbed = self.text(value)
                if len(value) <= _SHORT:
                    if len(done) >= _REMEMBERED:  # bounded: start again
                        done.clear()
                    done[value] = scrubbed
            out[name] = scrubbed
        return out

    def request(self, method: str, uri: str, body: Any, headers: Any) -> dict[str, Any]:
        """A request as written: on the replay endpoint, no timestamp or nonce, no secrets."""
        query = [
            (name, self._field(name, value))
            for name, value in parse_qsl(uri.partition("?")[2], keep_blank_values=True)
            if name not in _DROPPED_QUERY
        ]
        fields = [(name, self._field(name, value)) for name, value in form_fields(body)]
        return {
            "method": method.upper(),
            "uri": f"{ENDPOINT}/?{urlencode(query, safe='*')}",
            "body": urlencode(fields, safe="*"),
            "headers": _header_lists(headers, lambda n: n.lower() in _REQUEST_HEADERS),
        }

    def _field(self, name: str, value: str) -> str:
        return f"Bearer {REDACTED}" if name == "Authorization" else self.text(value)

    @staticmethod
    def body_text(response: Mapping[str, Any]) -> str:
        """A live reply's body as text, without its content encoding."""
        raw = (response.get("body") or {}).get("string") or b""
        if isinstance(raw, str):
            return raw
        headers = _header_lists(response.get("headers") or {}, str)
        return _decoded(raw, headers).decode("utf-8", "replace")

    def response(self, response: Mapping[str, Any]) -> dict[str, Any]:
        """A reply as written: plain (decoded) JSON with tokens and signed URLs replaced."""
        headers = response.get("headers") or {}
        text = self.body_text(response)
        with contextlib.suppress(ValueError):  # not JSON: scrubbed as text only
            text = json.dumps(scrub_json(json.loads(text)), ensure_ascii=False)
        status = response.get("status") or {}
        return {
            "status": {"code": int(status.get("code", 200)), "message": status.get("message")},
            "headers": _header_lists(headers, _keep_response_header),
            "body": {"string": self.text(text)},
        }
