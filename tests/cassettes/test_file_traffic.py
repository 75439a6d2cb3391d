"""File and code traffic in cassettes: recorded, replayed offline, large bodies kept beside the
cassette compressed, signed URLs in file contents scrubbed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_agentbay.cassette import bodies, files
from pytest_agentbay.cassette.errors import CassetteError

from .conftest import Live, Project

FILES = """
import pytest

pytestmark = pytest.mark.agentbay(image="code_latest")

BIG = "".join(f"{i:05d} abcdefghij ✓\\n" for i in range(15_000))  # ~270 KB: 6 chunks
SIGNED = ("https://bucket.oss-cn-hangzhou.aliyuncs.com/out.zip?Expires=1700000000"
          "&OSSAccessKeyId=LTAI5tExample&Signature=c2lnbmVkLXNlY3JldA%3D%3D")


def test_big_file_round_trip(agentbay_session):
    fs = agentbay_session.file_system
    assert fs.write_file("/tmp/big.txt", BIG).success
    assert fs.read_file("/tmp/big.txt").content == BIG
    assert fs.get_file_info("/tmp/big.txt").size == len(BIG.encode())


def test_links_and_code(agentbay_session):
    fs = agentbay_session.file_system
    assert fs.write_file("/tmp/link.txt", SIGNED).success
    assert fs.read_file("/tmp/link.txt").content.startswith("https://bucket.oss")
    ran = agentbay_session.code.run_code("print('hi')\\n21 * 2", "python")
    assert ran.success and ran.result == "42" and ran.logs.stdout == ["hi\\n"]
"""


def test_file_and_code_traffic_records_small_and_replays_offline(
    project: Project, live: Live
) -> None:
    project.pytester.makepyfile(test_it=FILES)
    project.record("once").assert_outcomes(passed=2)
    base = project.root / "cassettes"
    written = {p.relative_to(base).as_posix(): p for p in base.rglob("*") if p.is_file()}
    stored = [name for name in written if name.endswith(".gz")]
    big = written["test_it/test_big_file_round_trip.agentbay.yaml"].read_text()
    assert len(stored) >= 8 and len(big) < 40_000, "large bodies live beside the cassette"
    bodies_dir = "test_it/test_big_file_round_trip.agentbay.bodies/"
    assert all(name.startswith(bodies_dir) for name in stored)
    total = sum(written[n].stat().st_size for n in stored)
    assert total < 270_000, "stored bodies are compressed (the file went up and came back)"
    links = written["test_it/test_links_and_code.agentbay.yaml"].read_text()
    assert "c2lnbmVkLXNlY3JldA" not in links and "LTAI5tExample" not in links
    assert "Signature%3D%2A%2A%2A" in links or "Signature=***" in links
    project.replay("--agentbay-require-cassettes").assert_outcomes(passed=2)


def _interaction(body: str, reply: str) -> files.Interaction:
    return {"request": {"method": "POST", "uri": "http://x/?Action=CallMcpTool", "body": body,
                        "headers": {}},
            "response": {"status": {"code": 200, "message": "OK"}, "headers": {},
                         "body": {"string": reply}}}


def test_bodies_round_trip_are_named_by_content_and_pruned(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    small, large = "Name=read_file", "x" * (bodies.LIMIT + 1)
    first = [_interaction(small, large), _interaction(large, small)]
    files.write(path, "c.yaml", first, [], None)
    text = path.read_text()
    assert large not in text and text.count("file: c.bodies/") == 2
    assert len(list(bodies.folder(path).iterdir())) == 1, "one content, one file"
    assert files.read(path, "c.yaml") == first
    replies = [_interaction(small, "y" * (bodies.LIMIT + 1))]
    files.write(path, "c.yaml", replies, [], files.stamp(path))  # a rewrite, not a merge
    assert len(list(bodies.folder(path).iterdir())) == 1, "the old body was removed"
    files.write(path, "c.yaml", [_interaction(small, small)], [], files.stamp(path))
    assert not bodies.folder(path).exists()


def test_a_missing_stored_body_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    files.write(path, "c.yaml", [_interaction("a", "z" * (bodies.LIMIT + 1))], [], None)
    for stored in bodies.folder(path).iterdir():
        stored.unlink()
    with pytest.raises(CassetteError, match=r"c\.yaml: cannot read its stored body c\.bodies/"):
        files.read(path, "c.yaml")


def test_secrets_in_large_bodies_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    body = "k" * bodies.LIMIT + "secret-key-123"
    with pytest.raises(files.SecretInCassette):
        files.write(path, "c.yaml", [_interaction(body, "ok")], ["secret-key-123"], None)
    assert not path.exists() and not bodies.folder(path).exists()
