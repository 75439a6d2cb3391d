"""The compiled cache: cassettes parsed once, served from JSON while the YAML is unchanged."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from pytest_agentbay.cassette import bodies, compiled
from pytest_agentbay.cassette.errors import CassetteError

from .conftest import Live, Project

CASSETTE = """\
interactions:
- request:
    method: POST
    uri: http://agentbay.replay.invalid/?Action=GetLabel&Format=json&Version=2025-05-06
    body: Authorization=Bearer+***&SessionId=session-1
    headers: {{}}
  response:
    status: {{code: 200, message: OK}}
    headers: {{}}
    body: {{string: '{{"Data": {{"Labels": "{value}"}}}}'}}
version: 1
"""


def body(interactions: list[dict[str, Any]]) -> Any:
    return interactions[0]["response"]["body"]["string"]


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("*.json"))


def test_a_cassette_is_parsed_once_then_served_from_the_cache(tmp_path: Path) -> None:
    path, cache = tmp_path / "c.yaml", tmp_path / "cache"
    path.write_text(CASSETTE.format(value="one"))
    interactions, keys = compiled.load(path, "c.yaml", cache)
    assert "one" in body(interactions) and dict(keys[0])["Action"] == "GetLabel"
    [entry] = entries(cache)
    # What the next load returns comes from the entry, not from the YAML:
    stored = json.loads(entry.read_text())
    stored["interactions"][0]["response"]["body"]["string"] = "from the cache"
    entry.write_text(json.dumps(stored))
    interactions, again = compiled.load(path, "c.yaml", cache)
    assert body(interactions) == "from the cache" and again == keys


def test_a_changed_cassette_is_parsed_again(tmp_path: Path) -> None:
    path, cache = tmp_path / "c.yaml", tmp_path / "cache"
    path.write_text(CASSETTE.format(value="one"))
    compiled.load(path, "c.yaml", cache)
    path.write_text(CASSETTE.format(value="two"))  # a re-recording: same name, new content
    interactions, _ = compiled.load(path, "c.yaml", cache)
    assert "two" in body(interactions)
    assert len(entries(cache)) == 1  # one entry per cassette, replaced


def test_a_broken_cassette_is_an_error_even_with_an_entry_for_its_old_content(
    tmp_path: Path,
) -> None:
    path, cache = tmp_path / "c.yaml", tmp_path / "cache"
    path.write_text(CASSETTE.format(value="one"))
    compiled.load(path, "c.yaml", cache)
    path.write_text("interactions: [unclosed")
    with pytest.raises(CassetteError, match=r"c\.yaml is not valid YAML"):
        compiled.load(path, "c.yaml", cache)


def test_an_unreadable_entry_only_means_parsing_again(tmp_path: Path) -> None:
    path, cache = tmp_path / "c.yaml", tmp_path / "cache"
    path.write_text(CASSETTE.format(value="one"))
    compiled.load(path, "c.yaml", cache)
    [entry] = entries(cache)
    entry.write_text("{not json")
    interactions, _ = compiled.load(path, "c.yaml", cache)
    assert "one" in body(interactions)
    assert json.loads(entry.read_text())["format"] == compiled.FORMAT  # rewritten


def test_a_binary_body_is_served_from_yaml_and_not_cached(tmp_path: Path) -> None:
    path, cache = tmp_path / "c.yaml", tmp_path / "cache"
    text = CASSETTE.format(value="one").replace(
        "body: {string: '", "body: {string: !!binary 'AAE=', x: '"
    )
    path.write_text(text)
    interactions, _ = compiled.load(path, "c.yaml", cache)
    assert body(interactions) == b"\x00\x01"
    assert entries(cache) == []


ECHO = """
def test_echo(agentbay_session):
    assert agentbay_session.command.execute_command("echo {word}").stdout == "{word}\\n"
"""


def test_replay_runs_use_the_cache_and_follow_a_re_recording(project: Project, live: Live) -> None:
    project.pytester.makepyfile(test_it=ECHO.format(word="first"))
    project.record("once").assert_outcomes(passed=1)
    cache = project.root / ".pytest_cache" / "d" / "agentbay-cassettes"
    project.replay("-p", "cacheprovider", offline=False).assert_outcomes(passed=1)
    assert len(entries(cache)) == 1  # the test's cassette, compiled
    project.replay("-p", "cacheprovider", offline=False).assert_outcomes(passed=1)
    project.pytester.makepyfile(test_it=ECHO.format(word="second"))
    project.record("rewrite").assert_outcomes(passed=1)
    project.replay("-p", "cacheprovider", offline=False).assert_outcomes(passed=1)
    stored = json.loads(entries(cache)[0].read_text())
    assert "second" in json.dumps(stored["interactions"])


def test_a_changed_body_stored_beside_the_cassette_is_read_again(tmp_path: Path) -> None:
    path, cache = tmp_path / "c.yaml", tmp_path / "cache"
    stored = bodies.folder(path)
    stored.mkdir()
    (stored / "b.gz").write_bytes(gzip.compress(b'{"Data": "one"}'))
    reference = "    body: {file: b.gz, size: 15}"
    text = CASSETTE.format(value="x").splitlines()
    path.write_text("\n".join(reference if "string:" in line else line for line in text))
    assert body(compiled.load(path, "c.yaml", cache)[0]) == '{"Data": "one"}'
    (stored / "b.gz").write_bytes(gzip.compress(b'{"Data": "two!"}'))
    assert body(compiled.load(path, "c.yaml", cache)[0]) == '{"Data": "two!"}'
    (stored / "b.gz").unlink()
    with pytest.raises(CassetteError):
        compiled.load(path, "c.yaml", cache)
