"""The cassette layer stands alone: loading it loads neither pytest nor the plugin."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import pytest_agentbay.cassette.files, pytest_agentbay.cassette.keys
import pytest_agentbay.cassette.paths, pytest_agentbay.cassette.scrub, pytest_agentbay.cassette.tape
import pytest_agentbay.cassette.deck
print(" ".join(
    name for name in sys.modules
    if name.split(".")[0] in ("pytest", "_pytest") or name.startswith("pytest_agentbay.plugin")
))
"""


def test_the_cassette_modules_load_without_pytest_or_the_plugin() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == []
