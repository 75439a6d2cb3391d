"""The claim of a session made ahead of time, against the creator finishing at the worst
moment (deterministic: the creator's two file operations run between the claimer's looks)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pytest_agentbay.models.params import CreateSessionParams
from pytest_agentbay.plugin import planner


class FakeSession:
    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.labels: dict[str, str] = {}

    def set_labels(self, labels: dict[str, str]) -> None:
        self.labels = labels


def test_a_session_finished_between_the_claimers_two_looks_is_claimed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = CreateSessionParams(labels={"k": "v"})
    slot = planner.slot_for(tmp_path, "test_a.py::test_one", params)
    slot.with_suffix(".pending").touch()  # the creator is making it
    record = {"success": True, "error_message": "", "code": "", "request_id": "r"}
    record["data"] = {"session_id": "s-1", "image_id": "linux_latest", "resource_url": ""}
    real_exists = Path.exists

    def exists(path: Path) -> bool:
        if path == slot.with_suffix(".pending") and real_exists(path):
            # the creator finishes now: .json written, then .pending removed
            slot.with_suffix(".json").write_text(json.dumps(record))
            path.unlink()
        return real_exists(path)

    monkeypatch.setattr(Path, "exists", exists)
    leases: Any = SimpleNamespace(
        fleet=SimpleNamespace(path=tmp_path),
        client=SimpleNamespace(session=lambda data: FakeSession(data.session_id)),
        tracker=SimpleNamespace(alive={}, note=lambda *args: None),
        checked=None,
    )
    node: Any = SimpleNamespace(nodeid="test_a.py::test_one")
    claimed = planner.claim(leases, node, params)
    assert claimed is not None and claimed.session_id == "s-1"  # not wasted, none created
    assert claimed.labels == {"k": "v"}
    assert not slot.with_suffix(".json").exists()
