"""Volatile parts of requests: values that differ on every run (a fresh uuid, a random name,
a timestamp), so that a replayed request can still find its recorded twin.

Replay first looks a request up exactly. Only when that misses does it compare requests with
their volatile parts blanked: first the parts the user declared (ini `agentbay_volatile`, or
`agentbay_cassette.volatile(...)`), then also values that look random by their shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Union

from .keys import Key

Blank = Callable[[str], str]
Declared = Union[str, "re.Pattern[str]", Blank]
"""What a user declares volatile: a regular expression (text or compiled), or a function that
returns a value with its volatile parts replaced by anything that does not vary."""

PLACEHOLDER = "<volatile>"
_EDGE_BEFORE = r"(?<![0-9A-Za-z])"
_EDGE_AFTER = r"(?![0-9A-Za-z])"
RANDOM_LOOKING = {
    "a uuid": r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    "a timestamp": r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?",
    "an epoch time": r"1[5-9]\d{8}(?:\d{3}){0,3}",
    "a hex token": r"(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{16,}"
    r"|(?=[0-9A-F]*[A-F])(?=[0-9A-F]*\d)[0-9A-F]{16,}",
    "a base32 token": r"(?=[A-Z2-7]*[A-Z])(?=[A-Z2-7]*[2-7])[A-Z2-7]{16,}"
    r"|(?=[a-z2-7]*[a-z])(?=[a-z2-7]*[2-7])[a-z2-7]{16,}",
    "a ULID": r"[0-9A-HJKMNP-TV-Z]{26}",
}
"""Shapes of values that are random or change with time, by what people call them."""

_AUTO = re.compile(
    "|".join(f"{_EDGE_BEFORE}(?:{shape}){_EDGE_AFTER}" for shape in RANDOM_LOOKING.values())
)
_NEVER_AUTO = frozenset({"SessionId", "Action"})  # stable in replay: a loose match would swap


def compile_declared(declared: Declared) -> Blank:
    """A declared volatile part as a function on values; ValueError for a bad pattern."""
    if callable(declared) and not isinstance(declared, re.Pattern):
        return declared
    try:
        pattern = declared if isinstance(declared, re.Pattern) else re.compile(declared)
    except (re.error, TypeError) as error:
        message = f"volatile pattern {declared!r} is not a regular expression: {error}"
        raise ValueError(message) from None
    return lambda value: pattern.sub(PLACEHOLDER, value)


class Loosener:
    """Blanks the volatile parts of match keys: the declared ones, and (`auto`) the
    random-looking ones."""

    def __init__(self, declared: Iterable[Blank], auto: bool) -> None:
        self.declared = list(declared)
        self.auto = auto

    def __call__(self, key: Key) -> Key:
        return tuple((name, self._value(name, value)) for name, value in key)

    def _value(self, name: str, value: str) -> str:
        for blank in self.declared:
            value = blank(value)
        if self.auto and name not in _NEVER_AUTO:
            value = _AUTO.sub(PLACEHOLDER, value)
        return value


def random_parts(value: str) -> list[str]:
    """What in `value` looks random, by name (for the report)."""
    found = []
    for name, shape in RANDOM_LOOKING.items():
        if re.search(f"{_EDGE_BEFORE}(?:{shape}){_EDGE_AFTER}", value):
            found.append(name)
    return found
