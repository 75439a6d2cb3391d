"""The labels this plugin puts on every session it creates: their names, shared by the plugin
(cleanup, reaping) and the cassette layer (which ignores them when matching requests)."""

from __future__ import annotations

import hashlib
import time

LABEL_PREFIX = "pytest-agentbay"
OWNER = "pytest-agentbay"  # the value of OWNER_LABEL
OWNER_LABEL = f"{LABEL_PREFIX}.owner"
RUN_LABEL = f"{LABEL_PREFIX}.run"
WORKER_LABEL = f"{LABEL_PREFIX}.worker"
TEST_LABEL = f"{LABEL_PREFIX}.test"
CREATED_LABEL = f"{LABEL_PREFIX}.created"
# one pytest invocation (its xdist workers included): the end-of-run sweep deletes only these,
# so shards sharing a run id never sweep each other's sessions
SHARD_LABEL = f"{LABEL_PREFIX}.shard"
# epoch seconds until which the run promises to be alive (refreshed while it runs): reap skips
ALIVE_LABEL = f"{LABEL_PREFIX}.alive-until"


def tags(
    run_id: str, worker: str, nodeid: str, shard: str = "", alive_for: float = 0.0
) -> dict[str, str]:
    """The labels every session of this plugin carries, for cleanup and reaping."""
    now = time.time()
    labels = {
        OWNER_LABEL: OWNER,
        RUN_LABEL: run_id,
        WORKER_LABEL: worker,
        TEST_LABEL: hashlib.sha1(nodeid.encode()).hexdigest()[:12],
        CREATED_LABEL: str(int(now)),
    }
    if shard:
        labels[SHARD_LABEL] = shard
    if alive_for:
        labels[ALIVE_LABEL] = str(int(now + alive_for))
    return labels
