"""Reading request parameters: mandatory ones, integers, and JSON documents inside form fields."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .reply import invalid, missing

Params = Mapping[str, str]


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
