"""Our client reads every catalogue reply as the official SDK 0.13.1 does, sync and async.

0.13.1's results are the checked-in golden file (made by `run_official.py`);
`test_golden_file_is_what_0_13_1_says` re-runs 0.13.1 itself to prove the file current.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # the catalogue is also imported by 0.13.1's own interpreter

import ours  # noqa: E402
from cases import CASES  # noqa: E402
from compare import SDK_ONLY_FIELDS, differences, kept_from_reply, unmentioned  # noqa: E402
from known import KNOWN  # noqa: E402
from replyserver import ReplyServer  # noqa: E402
from snapshot import outcome  # noqa: E402

GOLDEN_FILE = HERE / "golden-0.13.1.json"
GOLDEN: dict[str, Any] = json.loads(GOLDEN_FILE.read_text())["cases"]
BY_NAME = {case["name"]: case for case in CASES}


@pytest.fixture(scope="module")
def server() -> Iterator[ReplyServer]:
    """The scripted loopback server (one for the module; each case loads its own script)."""
    with ReplyServer() as running:
        yield running


def unexplained(case: dict[str, Any], mode: str, got: dict[str, Any]) -> dict[str, Any]:
    """The differences between 0.13.1 and `got` that no documented difference explains."""
    sdk = GOLDEN[case["name"]][mode]
    for known in KNOWN:
        if known.like and case["name"].startswith(known.cases):
            like_name = known.like + case["name"].split("/", 1)[1]
            sdk = GOLDEN[like_name][mode]
    found = {
        path: values
        for path, values in differences(sdk, got).items()
        if not kept_from_reply(case, path, *values)
        and not any(known.accepts(case, path, values[1]) for known in KNOWN)
    }
    if lost := unmentioned(case, sdk, got):
        found["error_message (what the service said)"] = (sorted(lost), "not passed on")
    return found


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_reads_reply_as_official_sdk(server: ReplyServer, case: dict[str, Any], mode: str) -> None:
    run = ours.run_sync if mode == "sync" else ours.run_async
    got = outcome(lambda: run(server, case))
    assert unexplained(case, mode, got) == {}, f"0.13.1: {GOLDEN[case['name']][mode]}\nours: {got}"


def test_catalogue_is_large_and_fully_recorded() -> None:
    assert len(CASES) >= 80
    assert len(BY_NAME) == len(CASES), "case names must be unique"
    assert set(GOLDEN) == set(BY_NAME), "re-run run_official.py to record 0.13.1's results"


def test_every_documented_difference_is_still_one(server: ReplyServer) -> None:
    """A row of the table that no case needs any more must go (README included)."""
    for known in KNOWN:
        needed = False
        for name in (name for name in BY_NAME if name.startswith(known.cases)):
            got = outcome(lambda name=name: ours.run_sync(server, BY_NAME[name]))
            found = differences(GOLDEN[name]["sync"], got)
            needed |= bool(found) if known.like else any(
                known.accepts(BY_NAME[name], path, values[1]) for path, values in found.items()
            )
        assert needed, f"documented difference {known.name!r} no longer differs from 0.13.1"
    assert all(not path.startswith("_") for path in SDK_ONLY_FIELDS)


def test_comparison_catches_a_new_difference(server: ReplyServer) -> None:
    """The harness is not blind: a changed field in our result is reported."""
    case = BY_NAME["list/ok"]
    got = outcome(lambda: ours.run_sync(server, case))
    assert unexplained(case, "sync", got) == {}
    got["result"]["total_count"] += 1
    assert set(unexplained(case, "sync", got)) == {"total_count"}
    refused = BY_NAME["create/refused"]
    got = outcome(lambda: ours.run_sync(server, refused))
    got["result"]["error_message"] = "Failed to create session"
    assert set(unexplained(refused, "sync", got)) == {"error_message (what the service said)"}
