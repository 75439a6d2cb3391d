"""The golden file is what the official SDK 0.13.1 really answers: run it live and compare.

0.13.1 cannot share an environment with the 0.22.3 of the test extra, so it gets its own
virtual environment in the pytest cache (made once, reused by later runs). Without network the
test is skipped, unless AGENTBAY_REQUIRE_OFFICIAL_SDK is set (CI sets it): then it fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
OFFICIAL = "wuying-agentbay-sdk==0.13.1"
REQUIRE = "AGENTBAY_REQUIRE_OFFICIAL_SDK"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


def _unavailable(why: str) -> None:
    message = f"no environment with {OFFICIAL}: {why}"
    if os.environ.get(REQUIRE):
        pytest.fail(f"{message} ({REQUIRE} is set, so the live comparison must run)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def official_python(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A Python interpreter with the official SDK 0.13.1, in a virtualenv under the pytest cache."""
    cache = getattr(request.config, "cache", None)
    root = cache.mkdir("official-sdk-0.13.1") if cache else tmp_path_factory.mktemp("sdk")
    venv = root / "venv"
    python = venv / "bin" / "python"
    done = venv / "installed.txt"
    if done.exists() and done.read_text() == OFFICIAL and python.exists():
        return python
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", OFFICIAL],
    ]
    for step in steps:
        try:
            subprocess.run(step, check=True, capture_output=True, text=True, timeout=900)
        except subprocess.CalledProcessError as error:
            _unavailable(f"{' '.join(step[:4])} failed: {error.stderr.strip()[-500:]}")
        except (OSError, subprocess.TimeoutExpired) as error:
            _unavailable(str(error))
    done.write_text(OFFICIAL)
    return python


def test_golden_file_is_what_0_13_1_says(official_python: Path, tmp_path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in PROXY_VARS and not k.startswith("AGENTBAY_")
    }
    run = subprocess.run(
        [str(official_python), str(HERE / "run_official.py")],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
        env=env,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    live = json.loads(run.stdout)
    golden = json.loads((HERE / "golden-0.13.1.json").read_text())
    changed = sorted(
        name
        for name in golden["cases"].keys() | live["cases"].keys()
        if golden["cases"].get(name) != live["cases"].get(name)
    )
    assert changed == [], "0.13.1 now answers differently; re-record with run_official.py"
