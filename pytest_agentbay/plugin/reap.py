"""`pytest --agentbay-reap`: delete sessions this plugin created that outlived their run."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from ..client.agentbay import AgentBay
from ..labels import CREATED_LABEL, OWNER, OWNER_LABEL
from .backend import choose
from .options import setting


def reap(config: pytest.Config) -> int:
    """Delete this plugin's sessions older than --agentbay-reap-age; print what was done."""
    age = float(setting(config, "agentbay_reap_age"))
    backend = choose(config)
    write = config.get_terminal_writer().line
    try:
        with backend.client() as client:
            ids = _own_sessions(client, write)
            if ids is None:
                return 1
            reaped, kept = _delete_older(client, ids, age, write)
    finally:
        backend.close()
    write(
        f"agentbay reap: {reaped} deleted, {kept} younger than {age:.0f} s kept "
        f"({backend.kind} backend)"
    )
    return 0


def _own_sessions(client: AgentBay, write: Callable[[str], None]) -> list[str] | None:
    """Every session labelled as this plugin's, page by page; None when listing failed."""
    ids: list[str] = []
    page = 1
    while True:
        listed = client.list(labels={OWNER_LABEL: OWNER}, page=page, limit=50)
        if not listed.success:
            write(f"agentbay reap: listing sessions failed: {listed.error_message}")
            return None
        ids += listed.session_ids
        if not listed.next_token:
            return ids
        page += 1


def _delete_older(
    client: AgentBay, ids: list[str], age: float, write: Callable[[str], None]
) -> tuple[int, int]:
    """Delete the sessions created more than `age` seconds ago (or undated); (deleted, kept)."""
    now = time.time()
    reaped = kept = 0
    for session_id in ids:
        labels = client.get(session_id)
        created = 0.0
        if labels.success and labels.session is not None:
            got = labels.session.get_labels()
            created = float((got.data or {}).get(CREATED_LABEL, 0) or 0)
        if created and now - created < age:
            kept += 1
            continue
        result = client.delete(session_id)
        reaped += result.success
        write(
            f"agentbay reap: {'deleted' if result.success else 'could not delete'} "
            f"{session_id} (age {now - created:.0f} s)"
            + ("" if result.success else f": {result.error_message}")
        )
    return reaped, kept
