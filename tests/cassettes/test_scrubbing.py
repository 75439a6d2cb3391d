"""Scrubbing is on by default: the live key, tokens and signed URLs never reach a written file,
and placeholders are consistent, so the scrubbed cassettes still replay."""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus

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
