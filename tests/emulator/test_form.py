"""Form decoding: the fast path gives what the standard library's `unquote_plus` gives."""

from __future__ import annotations

import random
from collections.abc import Callable
from urllib.parse import quote_plus, unquote_plus

import pytest

from pytest_agentbay.emulator.form import _unquote_plus, parse_params
from pytest_agentbay.emulator.reply import ApiError

TRICKY = ["", "a+b", "%2B", "100%", "%4", "%zz1", "%%41", "a\\x41b", "\\%41", "é%C3%A9",
          "%C3%A9+%E2%9C%93\\n", "%00%0a%5C", "%41%4", "%ba", "%e2%9c%93", "\\\\x41", "%5Cx41"]


def _outcome(decode: Callable[[str], str], text: str) -> str | type[Exception]:
    try:
        return decode(text)
    except UnicodeDecodeError as exc:
        return type(exc)


def _same(text: str) -> bool:
    return _outcome(_unquote_plus, text) == _outcome(
        lambda t: unquote_plus(t, errors="strict"), text)


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_values_decode_as_the_standard_library_does(text: str) -> None:
    assert _same(text)


def test_random_encoded_values_round_trip() -> None:
    rng = random.Random(15)
    alphabet = "ab +%\\x\n\"{}é✓😀\0"
    for _ in range(500):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randrange(30)))
        assert _unquote_plus(quote_plus(value)) == value
        assert _same(value), value  # raw, as a lax client might send it


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(ApiError, match="not valid UTF-8"):
        parse_params("", b"Args=%C3%28")
