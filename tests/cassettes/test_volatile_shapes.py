"""What counts as random-looking: each shape is blanked, plain words, short numbers and session
ids are not."""

from __future__ import annotations

import pytest

from pytest_agentbay.cassette.volatile import Loosener, compile_declared, random_parts

AUTO = Loosener([], auto=True)


def _args(value: str) -> str:
    return dict(AUTO((("Args", value),)))["Args"]


@pytest.mark.parametrize(
    ("value", "shape"),
    [
        ("mkdir /tmp/job-123e4567-e89b-12d3-a456-426614174000", "a uuid"),
        ("echo 9f86d081884c7d659a2feaa0c55ad015", "a hex token"),
        ("echo NBSWY3DPEB3W64TMMQ", "a base32 token"),
        ("id 01ARZ3NDEKTSV4RRFFQ69G5FAV", "a ULID"),
        ("at 2026-12-02T04:42:59Z", "a timestamp"),
        ("at 1796187984123", "an epoch time"),
    ],
)
def test_random_looking_values_are_blanked(value: str, shape: str) -> None:
    assert "<volatile>" in _args(value)
    assert shape in random_parts(value)


@pytest.mark.parametrize(
    "value", ["echo hello world", "sleep 12345", "ls /tmp/DOCUMENTATIONFOLDERS", "run-17"]
)
def test_ordinary_values_are_kept(value: str) -> None:
    assert _args(value) == value


def test_session_ids_are_never_loosened() -> None:
    key = (("SessionId", "session-9f86d081884c7d659"),)
    assert AUTO(key) == key


def test_declared_parts_patterns_and_functions() -> None:
    declared = Loosener(
        [compile_declared(r"run-[0-9]+"), compile_declared(lambda v: v.upper())], auto=False
    )
    assert dict(declared((("Name", "run-17 x"),)))["Name"] == "<VOLATILE> X"
    with pytest.raises(ValueError, match="is not a regular expression"):
        compile_declared("run-[0-9")
