"""Every public field of a result, as plain JSON data (standard library only: both sides use it).

A result object becomes a dict of its public, non-callable attributes. Nested objects (the
session of a SessionResult, the data of a GetSessionResult) become dicts of their plain fields;
live objects hanging off them (clients, services) are left out, so a snapshot is data only.
"""

from __future__ import annotations

from typing import Any

PLAIN = (str, int, float, bool, type(None))


def _fields(obj: Any) -> dict[str, Any]:
    names = getattr(type(obj), "model_fields", None)  # pydantic: declared fields, not helpers
    if names is not None:
        return {name: getattr(obj, name) for name in names}
    found = {k: v for k, v in vars(obj).items() if not k.startswith("_") and not callable(v)}
    for name in dir(type(obj)):  # public properties are fields too (a Session's come from data)
        if not name.startswith("_") and isinstance(getattr(type(obj), name), property):
            try:
                found[name] = getattr(obj, name)
            except Exception:  # a property that needs I/O or state is not a field
                continue
    return found


def _value(value: Any, depth: int) -> Any:
    if isinstance(value, PLAIN):
        return value
    if isinstance(value, (list, tuple)):
        return [_value(v, depth) for v in value]
    if isinstance(value, dict):
        return {str(k): _value(v, depth) for k, v in value.items()}
    if depth == 0 or not hasattr(value, "__dict__"):
        return ...
    nested = {k: _value(v, depth - 1) for k, v in _fields(value).items()}
    return {k: v for k, v in nested.items() if v is not ...}


def snapshot(result: Any) -> dict[str, Any]:
    """The public fields of `result`, nested objects one level deep, as JSON-able data."""
    return {k: v for k, v in _value(result, 2).items() if v is not ...}


def outcome(call: Any) -> dict[str, Any]:
    """Run `call()`: its result's snapshot, or the exception it raised (type and text)."""
    try:
        return {"result": snapshot(call())}
    except Exception as error:  # a raised error is an outcome to compare, not a harness failure
        return {"raised": type(error).__name__, "text": str(error)}
