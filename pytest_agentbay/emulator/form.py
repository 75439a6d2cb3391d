"""Reading a request: the query and the form body merged (protocol 1.3), then typed parameters."""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

from .reply import ApiError, invalid, missing

Params = Mapping[str, str]

MAX_BODY_BYTES = 1 << 20  # 1 MiB: far above any real request, small enough to refuse unread
MAX_FIELDS = 1000


def too_large(size: int) -> ApiError:
    """The error for a body over `MAX_BODY_BYTES` (answered without reading it)."""
    return ApiError(
        "RequestEntityTooLarge",
        f"The request body is {size} bytes; the service accepts at most {MAX_BODY_BYTES} bytes.",
        413,
    )


def _unquote_plus(text: str) -> str:
    """`urllib.parse.unquote_plus(text, errors="strict")`, at C speed for valid input.

    A 50 KiB file chunk in a form field is ~8000 escapes: unquote_plus walks them in Python
    (3.5 ms a call, a third of a file call); here ``%XX`` becomes ``\\xXX`` (backslashes
    doubled first) for the C escape decoder. Anything it refuses (a stray ``%``, a raw
    non-ASCII character) takes the standard library's path, which settles what it means.
    """
    if "%" not in text:
        return text.replace("+", " ")
    try:
        data = text.encode("ascii").replace(b"\\", b"\\\\").replace(b"+", b" ")
        raw = codecs.escape_decode(data.replace(b"%", b"\\x"))[0]
    except (UnicodeEncodeError, ValueError):
        return unquote_plus(text, errors="strict")
    return raw.decode("utf-8", errors="strict")


def _pairs(text: str, where: str) -> dict[str, str]:
    """Decode `a=1&b=2`; strict, and never echoing the text (it may hold the API key)."""
    params: dict[str, str] = {}
    if not text:
        return params
    fields = text.split("&")
    if len(fields) > MAX_FIELDS:
        raise ApiError("InvalidParameter", f"The {where} has more than {MAX_FIELDS} fields.")
    for number, field in enumerate(fields, start=1):
        if not field:
            continue  # `a=1&&b=2` or a trailing `&`: harmless, as in every form parser
        name, sep, value = field.partition("=")
        if not sep or not name:
            raise ApiError(
                "InvalidParameter",
                f"The {where} is not application/x-www-form-urlencoded: "
                f"field {number} is not name=value.",
            )
        try:
            params[_unquote_plus(name)] = _unquote_plus(value)
        except UnicodeDecodeError:
            raise ApiError(
                "InvalidParameter", f"The {where} field {number} is not valid UTF-8."
            ) from None
    return params


def parse_params(query: str, body: bytes) -> dict[str, str]:
    """Query and form parameters merged; the form wins where both name a parameter."""
    params = _pairs(query, "query string")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError("InvalidParameter", "The request body is not valid UTF-8.") from None
    params.update(_pairs(text, "request body"))
    return params


def required(params: Params, name: str) -> str:
    """A mandatory, non-blank parameter."""
    value = params.get(name, "")
    if not value.strip():
        raise missing(name)
    return value.strip()


def json_param(params: Params, name: str, kind: type, default: Any) -> Any:
    """A parameter holding a JSON document of type `kind` (protocol 1.3)."""
    raw = params.get(name, "")
    if not raw.strip():
        return default
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise invalid(name, f"not valid JSON ({exc.msg} at position {exc.pos}).") from None
    except (ValueError, RecursionError):
        raise invalid(name, "not valid JSON.") from None
    if not isinstance(value, kind):
        raise invalid(name, f"expected a JSON {'object' if kind is dict else 'array'}.")
    return value


def labels_param(params: Params) -> dict[str, str]:
    """`Labels`: a JSON object of strings."""
    labels = json_param(params, "Labels", dict, {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        raise invalid("Labels", "keys and values must be strings.")
    return dict(labels)


def int_param(params: Params, name: str, default: int, low: int, high: int) -> int:
    """An integer parameter within [low, high]."""
    raw = params.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(name, "expected an integer.") from None
    if not low <= value <= high:
        raise invalid(name, f"must be between {low} and {high}.")
    return value
