"""`pytest --agentbay-reap`: delete sessions this plugin created that outlived their run.

A run that is still going marks its sessions alive (the alive-until label its heartbeat
refreshes): reap never touches them. Other sessions are deleted once their run was last seen
alive at least --agentbay-reap-age seconds ago. With --agentbay-run-id, exactly that run's
sessions are deleted (a final CI job cleaning up after its shards)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from ..client.agentbay import AgentBay
from ..labels import ALIVE_LABEL, CREATED_LABEL, OWNER, OWNER_LABEL, RUN_LABEL
from .backend import choose
from .options import setting
from .settings import read_settings


def reap(config: pytest.Config) -> int:
    """Delete this plugin's sessions older than --agentbay-reap-age; print what was done."""
    settings = read_settings(config)
    age = settings.reap_age
    run_id = setting(config, "agentbay_run_id")
    backend = choose(config)
    write = config.get_terminal_writer().line
    labels = {OWNER_LABEL: OWNER, **({RUN_LABEL: run_id} if run_id else {})}
    try:
        with backend.client() as client:
            ids = _own_sessions(client, labels, write)
            if ids is None:
                return 1
            reaped, kept = _delete_older(client, ids, None if run_id else age, write)
    finally:
        backend.close()
    if run_id:
        write(f"agentbay reap: {reaped} deleted of run {run_id} ({backend.kind} backend)")
        return 0
    write(
        f"agentbay reap: {reaped} deleted, {kept} of live runs or younger than {age:.0f} s "
        f"kept ({backend.kind} backend)"
    )
    return 0


def _own_sessions(
    client: AgentBay, labels: dict[str, str], write: Callable[[str], None]
) -> list[str] | None:
    """Every session with `labels` (this plugin's), page by page; None when listing failed."""
    ids: list[str] = []
    page = 1
    while True:
        listed = client.list(labels=labels, page=page, limit=50)
        if not listed.success:
            write(f"agentbay reap: listing sessions failed: {listed.error_message}")
            return None
        ids += listed.session_ids
        if not listed.next_token:
            return ids
        page += 1


def _delete_older(
    client: AgentBay, ids: list[str], age: float | None, write: Callable[[str], None]
) -> tuple[int, int]:
    """Delete the sessions whose run was last alive `age` seconds ago or more (or undated;
    all of them with `age` None); (deleted, kept)."""
    now = time.time()
    reaped = kept = 0
    for session_id in ids:
        created = _last_alive(client, session_id)
        if age is not None and created and now - created < age:
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


def _last_alive(client: AgentBay, session_id: str) -> float:
    """When the session's run last said it was alive (epoch seconds; may be in the future:
    the run is going); 0.0 when the session carries no date."""
    found = client.get(session_id)
    if not found.success or found.session is None:
        return 0.0
    labels = found.session.get_labels().data or {}
    dates = []
    for name in (CREATED_LABEL, ALIVE_LABEL):
        try:
            dates.append(float(labels.get(name) or 0))
        except ValueError:
            dates.append(0.0)  # a label someone else set: no date
    return max(dates)
