"""Scrubbing is on by default: the live key, tokens and signed URLs never reach a written file,
and placeholders are consistent, so the scrubbed cassettes still replay."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from urllib.parse import quote, quote_plus

from pytest_agentbay.cassette.deck import Deck
from pytest_agentbay.cassette.scrub import ENDPOINT, Scrubber
from pytest_agentbay.cassette.tape import Tape

from .conftest import KEY, Live, Project

SECRETS = """
def test_everything_secret(agentbay_client, agentbay_endpoint, agentbay_session_factory):
    session = agentbay_session_factory(labels={"team": "qa"})
    echoed = session.command.execute_command(f"echo {agentbay_endpoint.api_key}")
    assert echoed.success
    info = session.info()
    assert info.success and info.data.resource_url
    assert agentbay_client.delete(session, sync_context=True).success  # key in the query
"""


def test_no_secret_reaches_a_cassette_and_replay_still_matches(
    project: Project, live: Live
) -> None:
    project.pytester.makepyfile(test_it=SECRETS)
    project.record("once").assert_outcomes(passed=1)
    assert live.calls("SyncContext") == 1 and live.calls("GetMcpResource") == 1
    written = [p for p in project.root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".yaml" for p in written)
    for path in written:
        text = path.read_text(errors="replace")
        for form in (KEY, quote(KEY, safe=""), quote_plus(KEY)):
            assert form not in text, path
    (text,) = project.cassettes().values()
    assert "Authorization=Bearer+***" in text and "Bearer+cass" not in text
    assert re.findall(r"authcode=([^&\"']*)", text) and set(
        re.findall(r"authcode=([^&\"']*)", text)
    ) == {"***"}
    assert re.findall(r'"(?:AuthCode|Ticket)": "([^"]*)"', text) == ["***", "***"]
    assert "echo+***" in text  # the key in a command, and in its output
    project.replay().assert_outcomes(passed=1)


def test_a_compressed_reply_is_written_decoded_with_its_session_renamed(tmp_path: Path) -> None:
    # httpx hands vcrpy the body as it came off the wire: gzip, if the service compressed it.
    reply = {"Success": True, "Data": {"SessionId": "session-live0001", "Token": "t0k3n"}}
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Encoding": ["gzip"], "Content-Type": ["application/json"]},
        "body": {"string": gzip.compress(json.dumps(reply).encode())},
    }
    deck = Deck(Scrubber([KEY]))
    tape = Tape(tmp_path / "c.yaml", "c.yaml", "c.yaml", "once")
    deck.enter(tape)
    uri = f"{ENDPOINT}/?Action=CreateMcpSession&Timestamp=now"
    route = deck.route("POST", uri, f"Authorization=Bearer+{KEY}")
    assert route is not None
    deck.record(route, {"method": "POST", "uri": uri, "body": "", "headers": {}}, response)
    ((_, stored),) = tape.recorded
    written = json.loads(stored["response"]["body"]["string"])
    assert written["Data"]["SessionId"].startswith("session-") and "live0001" not in str(stored)
    assert written["Data"]["Token"] == "***"
    assert stored["response"]["headers"] == {"content-type": ["application/json"]}


def test_a_value_scrubbed_before_its_session_had_an_alias_is_aliased_after() -> None:
    scrubber = Scrubber([KEY])
    params = {"Action": "GetSession", "SessionId": "s-live-1", "Note": f"key {KEY}"}
    assert scrubber.params(params)["SessionId"] == "s-live-1"  # no alias yet: kept as is
    alias = scrubber.alias("s-live-1", "cassettes/test_a.yaml", set())
    again = scrubber.params(params)
    assert again["SessionId"] == alias and KEY not in again["Note"]
