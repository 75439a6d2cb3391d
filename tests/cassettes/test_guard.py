"""The guard, step by step as vcrpy's stubs ask a cassette (aiohttp asks `filter_request`
twice: before sending, and again before recording): another cassette never refuses, plays or
keeps an AgentBay call; our router records it; other requests are that cassette's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from vcr.cassette import Cassette
from vcr.record_mode import RecordMode
from vcr.request import Request

from pytest_agentbay.cassette.deck import Deck
from pytest_agentbay.cassette.scrub import Scrubber
from pytest_agentbay.cassette.tape import Tape
from pytest_agentbay.plugin.cassettes import GUARD, Router

REPLY = {
    "status": {"code": 200, "message": "OK"},
    "headers": {"Content-Type": ["application/json"]},
    "body": {"string": b'{"RequestId": "r-1", "Data": {"Output": "hi"}}'},
}


def _api_call() -> Request:
    return Request("POST", "http://127.0.0.1:1/?Action=CallMcpTool", "SessionId=s-1&Name=shell", {})


@pytest.fixture
def ours(tmp_path: Path) -> Iterator[Tape]:
    """A recording tape in use behind our router, with the guard on."""
    tape = Tape(tmp_path / "t.agentbay.yaml", "t", "t", "rewrite")
    deck = Deck(Scrubber())
    deck.enter(tape)
    GUARD.install()
    GUARD.router = Router(deck)
    try:
        yield tape
    finally:
        GUARD.router = None
        GUARD.uninstall()


def _as_aiohttp_asks(theirs: Cassette, request: Request) -> None:
    """vcrpy's aiohttp stub, for a request sent live."""
    assert not theirs.can_play_response_for(request)
    assert not (theirs.write_protected and theirs.filter_request(request))  # else it refuses
    if theirs.filter_request(request):
        theirs.append(request, REPLY)


@pytest.mark.parametrize("mode", [RecordMode.NONE, RecordMode.ONCE, RecordMode.ALL])
def test_an_api_call_goes_to_our_tape_never_theirs(
    ours: Tape, tmp_path: Path, mode: RecordMode
) -> None:
    theirs = Cassette(str(tmp_path / "theirs.yaml"), record_mode=mode)
    _as_aiohttp_asks(theirs, _api_call())
    assert len(ours.recorded) == 1 and len(theirs.data) == 0


def test_other_requests_stay_theirs(ours: Tape, tmp_path: Path) -> None:
    theirs = Cassette(str(tmp_path / "theirs.yaml"), record_mode=RecordMode.ALL)
    other = Request("GET", "http://127.0.0.1:1/data", None, {})
    _as_aiohttp_asks(theirs, other)
    assert len(theirs.data) == 1 and not ours.recorded
    refusing = Cassette(str(tmp_path / "none.yaml"), record_mode=RecordMode.NONE)
    assert refusing.write_protected and refusing.filter_request(other)  # it refuses, as before


def test_without_our_router_an_api_call_goes_out_unrecorded(tmp_path: Path) -> None:
    GUARD.install()
    try:
        theirs = Cassette(str(tmp_path / "theirs.yaml"), record_mode=RecordMode.NONE)
        _as_aiohttp_asks(theirs, _api_call())
        assert len(theirs.data) == 0
    finally:
        GUARD.uninstall()
    assert Cassette.filter_request.__module__ == "vcr.cassette"  # uninstalled
