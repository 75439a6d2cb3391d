"""How two outcomes of one case are compared, and the differences we keep on purpose.

Outcomes are snapshots (`snapshot.py`): `{"result": {field: value}}` or `{"raised": type}`.
Fields are compared one by one, with two readings that make no difference to a user:
`None` and `""` are both "no value" (0.13.1 leaves unset strings at None), and an error
message is compared by whether there is one (wording is each client's own), not word by word,
except that what the service said (its Message, ErrMsg or tool error text) must be passed on
whenever 0.13.1 passes it on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Fields of 0.13.1 results our client does not model, with why (not reply reading).
SDK_ONLY_FIELDS = {
    "message": "0.13.1's raw `Message` echo; ours says it in error_message",
    "session.enableBrowserReplay": "a create parameter echoed back, not read from the reply",
    "session.is_vpc": "0.13.1's VPC route, which this client does not implement",
    "session.mcp_tools": "the VPC route's tool list (always [] outside VPC)",
    "session.http_port": "VPC route detail (GetSession reports it in `data.http_port`)",
    "session.network_interface_ip": "VPC route detail (GetSession: `data.network_interface_ip`)",
    "session.token": "a secret: kept off the Session object so it cannot reach a log",
    "data.success": "always False in 0.13.1 (its model has no Data.Success)",
    "data.contexts": "always [] in 0.13.1 (never read from the reply)",
}


@dataclass(frozen=True)
class Known:
    """A documented difference: where 0.13.1 has a plain bug, ours does what its docs say.

    `cases` picks the cases by name prefix; `fields` gives, per field, our value there (a
    callable gets the case and returns it). With `like`, ours is compared instead with what
    0.13.1 gives for the case named with `like` in place of the prefix.
    """

    name: str
    cases: tuple[str, ...]
    fields: dict[str, Any]
    reason: str
    like: str = ""

    def accepts(self, case: dict[str, Any], path: str, ours: Any) -> bool:
        """Whether our `ours` in field `path` of `case` is this documented difference."""
        if not case["name"].startswith(self.cases) or path not in self.fields:
            return False
        expected = self.fields[path]
        if expected is NONEMPTY:
            return bool(ours)
        return bool((expected(case) if callable(expected) else expected) == ours)


NONEMPTY = object()  # a Known field value: "ours says something here"


def reply_facts(case: dict[str, Any]) -> dict[str, set[Any]]:
    """What the case's replies said about themselves: request ids, codes, HTTP statuses."""
    facts: dict[str, set[Any]] = {"request_id": set(), "code": set(), "http_status_code": set()}
    for replies in case["replies"].values():
        for reply in replies:
            body = reply.get("body") if isinstance(reply.get("body"), dict) else {}
            facts["request_id"].add(body.get("RequestId"))
            facts["code"].add(body.get("Code"))
            facts["http_status_code"] |= {reply.get("status", 200), body.get("HttpStatusCode")}
    return facts


def _said(case: dict[str, Any]) -> set[str]:
    """The error texts the case's replies carry: Message, Data.ErrMsg, a tool's error text."""
    texts: set[str] = set()
    for reply in (r for replies in case["replies"].values() for r in replies):
        body = reply.get("body") if isinstance(reply.get("body"), dict) else {}
        data = body.get("Data") if isinstance(body.get("Data"), dict) else {}
        texts |= {body.get("Message") or "", data.get("ErrMsg") or ""}
        if data.get("isError"):
            texts |= {c.get("text") or "" for c in data.get("content") or [] if isinstance(c, dict)}
    return texts - {""}


def unmentioned(case: dict[str, Any], sdk: dict[str, Any], ours: dict[str, Any]) -> set[str]:
    """What the service said that 0.13.1's error message passes on and ours does not."""

    def message(out: dict[str, Any]) -> str:
        return str((out.get("result") or {}).get("error_message") or out.get("text") or "")

    return {text for text in _said(case) if text in message(sdk) and text not in message(ours)}


def kept_from_reply(case: dict[str, Any], path: str, sdk: Any, ours: Any) -> bool:
    """0.13.1 leaves request_id/code/http_status_code empty where the reply carried them
    (HTTP 4xx/5xx bodies, some refusals); ours reports what the reply said."""
    facts = reply_facts(case).get(path)
    return facts is not None and sdk in ("", 0, None) and ours in facts - {None, ""}


def _same(path: str, sdk: Any, ours: Any) -> bool:
    if path.endswith("error_message") or path == "text":
        return bool(sdk) == bool(ours)
    if sdk in (None, "") and ours in (None, ""):
        return True
    return bool(sdk == ours)


def differences(sdk: dict[str, Any], ours: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """`{field path: (0.13.1's value, ours)}` for every public field that differs."""
    if "result" in sdk and "result" in ours:
        found: dict[str, tuple[Any, Any]] = {}
        _walk("", sdk["result"], ours["result"], found)
        return found
    if sdk.get("raised") and ours.get("raised"):
        return {}
    return {"outcome": (sdk.get("raised", "result"), ours.get("raised", "result"))}


def _walk(prefix: str, sdk: dict[str, Any], ours: dict[str, Any], found: dict[str, Any]) -> None:
    for name, value in sdk.items():
        path = prefix + name
        if path in SDK_ONLY_FIELDS:
            continue
        if name not in ours:
            found[path] = (value, "<not modelled>")
        elif isinstance(value, dict) and isinstance(ours[name], dict):
            _walk(path + ".", value, ours[name], found)
        elif not _same(path, value, ours[name]):
            found[path] = (value, ours[name])
