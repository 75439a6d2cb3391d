"""Replay at the transport seam: the deck answers our client (and any httpx client) without
vcrpy; what it does not answer goes to the wrapped transport."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pytest_agentbay import AgentBay, Config, VirtualClock
from pytest_agentbay.cassette.deck import Deck
from pytest_agentbay.cassette.errors import NoMatch
from pytest_agentbay.cassette.scrub import ENDPOINT, Scrubber
from pytest_agentbay.cassette.seam import DeckTransport
from pytest_agentbay.cassette.tape import Tape

from .test_compiled import CASSETTE

URL = f"{ENDPOINT}/?Action=GetLabel&Format=json&Version=2025-05-06"


@pytest.fixture
def tape(tmp_path: Path) -> Tape:
    """A one-interaction tape: GetLabel of session-1."""
    path = tmp_path / "c.yaml"
    path.write_text(CASSETTE.format(value='{\\"k\\": \\"v\\"}'))  # Labels: JSON in JSON
    return Tape(path, "c.yaml", "c.yaml", "none")


@pytest.fixture
def deck(tape: Tape) -> Deck:
    """A deck with `tape` in use."""
    deck = Deck(Scrubber(["replay-key"]))
    deck.enter(tape)
    return deck


def refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"reached the wrapped transport: {request.url}")


def test_our_client_is_answered_without_reaching_any_transport(deck: Deck) -> None:
    transport = DeckTransport(deck, sync=httpx.MockTransport(refuse))
    with AgentBay("replay-key", Config(ENDPOINT), clock=VirtualClock(), transport=transport) as ab:
        labels = ab.session("session-1").get_labels()
    assert labels.success and labels.data == {"k": "v"}


def test_any_httpx_client_is_answered_and_a_miss_names_the_cassette(deck: Deck) -> None:
    with httpx.Client(transport=DeckTransport(deck, sync=httpx.MockTransport(refuse))) as http:
        reply = http.post(URL, content=b"Authorization=Bearer+replay-key&SessionId=session-1")
        assert reply.status_code == 200 and reply.json()["Data"]["Labels"] == '{"k": "v"}'
        with pytest.raises(NoMatch, match=r"cassette c\.yaml has no recorded reply"):
            http.post(URL, content=b"Authorization=Bearer+replay-key&SessionId=session-2")


def test_other_traffic_and_traffic_with_no_tape_go_to_the_wrapped_transport(
    deck: Deck, tape: Tape
) -> None:
    seen: list[str] = []

    def wrapped(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(204)

    with httpx.Client(transport=DeckTransport(deck, sync=httpx.MockTransport(wrapped))) as http:
        assert http.get("http://example.invalid/health").status_code == 204  # not an API call
        deck.leave(tape)
        assert http.post(URL, content=b"SessionId=session-1").status_code == 204  # no tape
    assert seen == ["http://example.invalid/health", URL]
