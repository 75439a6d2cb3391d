"""The session's file agent: one long-lived program per session, inside its sandbox.

The session runs as the same user as its agent, so it may kill, stop or feed garbage to it;
none of that may hang the emulator, reach outside the session, or outlive the session.
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from pytest_agentbay.emulator import files
from pytest_agentbay.emulator.sandbox import detect_isolation

from .conftest import Api

pytestmark = pytest.mark.skipif(
    detect_isolation() != "namespaces",
    reason="this machine allows no user/PID/mount namespaces (or lacks bubblewrap)",
)

MARK = f"\0{files.AGENT_NAME}\0"  # the agent's last argument
FIND = "pgrep -f 'agentbay-file-agen[t]'"  # (the bracket keeps the shell's own line out)
CHECKOUT = Path(__file__).resolve().parents[2]


@pytest.fixture
def box(real_api: Api) -> Iterator[tuple[Api, str, str]]:
    """A code_latest session: the api, its id and its HOME."""
    sid = real_api.create(ImageId="code_latest")
    yield real_api, sid, _shell((real_api, sid, ""), 'printf %s "$HOME"')
    with contextlib.suppress(Exception):
        real_api.ok("DeleteSessionAsync", SessionId=sid)


def _call(box: tuple[Api, str, str], name: str, **args: Any) -> tuple[Any, bool]:
    api, sid, _ = box
    return api.tool(sid, name, args)


def _shell(box: tuple[Api, str, str], command: str) -> str:
    payload, _ = box[0].tool(box[1], "shell", {"command": command})
    return str(payload["stdout"] if isinstance(payload, dict) else payload)


def _agents_in(box: tuple[Api, str, str]) -> list[int]:
    return [int(pid) for pid in _shell(box, FIND).split()]


def _agents_on_host() -> list[int]:
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            if state != "Z" and MARK.encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
    return found


def _written_and_read(box: tuple[Api, str, str], name: str, text: str) -> None:
    path = f"{box[2]}/{name}"
    assert _call(box, "write_file", path=path, content=text) == (
        f"Successfully wrote to {path}", False)
    assert _call(box, "read_file", path=path) == (text, False)


def test_one_agent_serves_all_of_a_sessions_file_calls(box: tuple[Api, str, str]) -> None:
    for n in range(3):
        _written_and_read(box, f"f{n}", f"text {n}")
    first = _agents_in(box)
    assert len(first) == 1, first
    _call(box, "list_directory", path=box[2])
    assert _agents_in(box) == first


def test_an_agent_killed_by_the_session_is_replaced(box: tuple[Api, str, str]) -> None:
    _written_and_read(box, "a", "before")
    before = _agents_in(box)
    _shell(box, "pkill -9 -f 'agentbay-file-agen[t]'; sleep 0.1")
    assert not _agents_in(box)
    _written_and_read(box, "a", "after")  # works at once: the request went to a new agent
    assert _agents_in(box) not in ([], before)


def test_an_agent_killed_during_a_call_fails_that_call_clearly(
    box: tuple[Api, str, str]
) -> None:
    _shell(box, "mkfifo ~/fifo")
    with ThreadPoolExecutor(1) as pool:
        stuck = pool.submit(_call, box, "read_file", path=f"{box[2]}/fifo")  # nobody writes
        time.sleep(0.5)
        started = time.monotonic()
        _shell(box, "pkill -9 -f 'agentbay-file-agen[t]'")
        text, failed = stuck.result(timeout=10)
    assert failed and "ended while working on this call" in text, text
    assert time.monotonic() - started < 5
    _written_and_read(box, "b", "still works")


def test_a_stopped_agent_times_out_and_is_replaced(
    box: tuple[Api, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "FS_TIMEOUT_MS", 1500)
    _written_and_read(box, "c", "first")
    _shell(box, f"kill -STOP $({FIND})")
    started = time.monotonic()
    assert _call(box, "read_file", path=f"{box[2]}/c") == (
        "Error: read_file failed in the sandbox: timed out", True)
    assert time.monotonic() - started < 5
    _written_and_read(box, "c", "second")
    states = _shell(box, f"for p in $({FIND}); do cut -d' ' -f3 /proc/$p/stat; done")
    assert states.split() in (["S"], ["R"]), states  # the stopped one is gone


def test_a_stuck_call_does_not_hold_up_the_sessions_other_calls(
    box: tuple[Api, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "FS_TIMEOUT_MS", 3000)
    _shell(box, "mkfifo ~/fifo")
    with ThreadPoolExecutor(1) as pool:
        stuck = pool.submit(_call, box, "read_file", path=f"{box[2]}/fifo")
        time.sleep(0.3)
        started = time.monotonic()
        _written_and_read(box, "d", "meanwhile")
        assert time.monotonic() - started < 2
        assert stuck.result(timeout=10) == ("Error: read_file failed in the sandbox: timed out",
                                             True)
    assert len(_agents_in(box)) == 1  # the stuck one was killed; one is kept


def test_garbage_written_to_the_agents_pipes_neither_hangs_nor_leaks(
    box: tuple[Api, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "FS_TIMEOUT_MS", 2000)
    _written_and_read(box, "e", "real")
    forged = "\\0\\0\\0\\x07\\0\\0\\0\\0\\0\\0\\0\\x03oforged"  # a reply to the next call
    _shell(box, f"printf '{forged}' > /proc/$({FIND})/fd/1")
    _written_and_read(box, "e", "real again")
    _shell(box, f"printf '\\x7f\\xff\\xff\\xffjunk' > /proc/$({FIND})/fd/0")
    started = time.monotonic()
    text, failed = _call(box, "read_file", path=f"{box[2]}/e")
    assert (text, failed) == ("real again", False) or (failed and "timed out" in text), text
    assert time.monotonic() - started < 5
    _written_and_read(box, "e", "and again")


def test_file_calls_reach_only_the_sessions_files(
    box: tuple[Api, str, str], tmp_path: Path
) -> None:
    host = tmp_path / "host-secret.txt"
    host.write_text("host secret")
    _shell(box, f"ln -s {host} ~/to-host; ln -s {CHECKOUT}/pyproject.toml ~/to-checkout")
    for path in (str(host), f"{box[2]}/to-host", f"{box[2]}/to-checkout",
                 f"{CHECKOUT}/pyproject.toml", "/proc/1/root/" + str(host)):
        text, failed = _call(box, "read_file", path=path)
        assert failed and text.startswith("Error: ENOENT"), (path, text)
    assert _call(box, "list_directory", path="/home") == ("[DIR] user", False)
    written = tmp_path / "written-by-session.txt"
    assert _call(box, "write_file", path=str(written), content="x")[1] is False  # its own /tmp
    assert not written.exists()
    assert _call(box, "write_file", path="/usr/x", content="x")[0].startswith("Error: EROFS")


def test_no_agent_outlives_its_session(real_api: Api) -> None:
    before = set(_agents_on_host())
    sessions = [real_api.create(ImageId="code_latest") for _ in range(2)]
    for sid in sessions:
        assert real_api.tool(sid, "write_file", {"path": "x", "content": "x"})[1] is False
    with ThreadPoolExecutor(4) as pool:  # overlapping calls: more agents for a moment
        list(pool.map(lambda n: real_api.tool(sessions[0], "get_file_info", {"path": "x"}),
                      range(8)))
    assert len(set(_agents_on_host()) - before) == 2
    for sid in sessions:
        real_api.ok("DeleteSessionAsync", SessionId=sid)
    deadline = time.monotonic() + 5
    while set(_agents_on_host()) - before:
        assert time.monotonic() < deadline, "an agent outlived its session"
        time.sleep(0.05)


@pytest.fixture
def high_descriptors() -> Iterator[None]:
    """Descriptors 0-1099 taken, so the next pipes get numbers above 1023 (as in an emulator
    serving a few hundred sessions)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"the hard limit on open files ({hard}) is below 1200")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    taken = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        yield
    finally:
        for fd in taken:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_file_calls_work_with_descriptors_above_1023(
    high_descriptors: None, box: tuple[Api, str, str]
) -> None:
    written, _ = _call(box, "write_file", path="/tmp/high.txt", content="high", mode="overwrite")
    assert _call(box, "read_file", path="/tmp/high.txt")[0] == "high", written


MANY_SESSIONS = """
import resource, sys, tempfile
resource.setrlimit(resource.RLIMIT_NOFILE, (128, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
from pytest_agentbay import AgentBay, Config
from pytest_agentbay.emulator import Emulator, EmulatorTransport
with tempfile.TemporaryDirectory() as root:
    client = AgentBay("akm-many", Config("http://emulator"),
                      transport=EmulatorTransport(Emulator(api_keys=["akm-many"], root=root)))
    sessions = [client.create().session for _ in range(40)]
    for s in sessions:
        written = s.file_system.write_file("/tmp/x", "x")
        assert written.success, written.error_message
    assert all(s.delete().success for s in sessions)
print("ok")
"""


def test_an_emulator_started_with_a_low_open_files_limit_serves_many_sessions() -> None:
    """40 sessions with a file agent each hold more descriptors than a soft limit of 128."""
    run = subprocess.run([sys.executable, "-c", MANY_SESSIONS], capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert run.returncode == 0 and run.stdout == "ok\n", run.stderr[-2000:]
