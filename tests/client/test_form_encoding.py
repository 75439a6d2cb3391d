"""The client's form encoding gives byte for byte what `urllib.parse.urlencode` gives."""

from __future__ import annotations

import json
import random
import urllib.parse

import pytest

from pytest_agentbay.protocol import codec

TRICKY = ["", " ", "a b+c", "~-_.", "%", "é✓😀", "\\n\"{}:,", "\0\x7f", "AZaz09", "-~ ~-"]


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_values(text: str) -> None:
    assert codec.quote_plus(text) == urllib.parse.quote_plus(text)


def test_random_values_and_a_file_chunk() -> None:
    rng = random.Random(15)
    alphabet = "aZ9 _.-~+%&=\\\n\"é✓😀\0/"
    pairs = [("".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 9))),
              "".join(rng.choice(alphabet) for _ in range(rng.randrange(40))))
             for _ in range(300)]
    chunk = json.dumps({"content": "".join(f"{i:07d} line ✓\n" for i in range(3000))},
                       ensure_ascii=False)
    pairs.append(("Args", chunk))
    assert codec.urlencode(pairs) == urllib.parse.urlencode(pairs)


def test_text_that_is_not_unicode_is_refused_as_urllib_refuses_it() -> None:
    with pytest.raises(UnicodeEncodeError):
        codec.quote_plus("\ud800")
    with pytest.raises(UnicodeEncodeError):
        urllib.parse.quote_plus("\ud800")
