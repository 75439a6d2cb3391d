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


def tags(run_id: str, worker: str, nodeid: str) -> dict[str, str]:
    """The labels every session of this plugin carries, for cleanup and reaping."""
    return {
        OWNER_LABEL: OWNER,
        RUN_LABEL: run_id,
        WORKER_LABEL: worker,
        TEST_LABEL: hashlib.sha1(nodeid.encode()).hexdigest()[:12],
        CREATED_LABEL: str(int(time.time())),
    }
