"""Escape attempts from a session, run as an agent would: through the emulator's API.

The emulator runs in a process of its own, started the safe way (key in its environment), with
small limits and with a real-looking AGENTBAY_API_KEY and proxy credentials in its environment,
as a developer's pytest process would have. Every command below tries to reach something
outside its session; the sandbox must stop it, and the emulator must keep serving.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from pytest_agentbay.emulator.sandbox import detect_isolation

from .conftest import Api

pytestmark = pytest.mark.skipif(
    detect_isolation() != "namespaces",
    reason="this machine allows no user/PID/mount namespaces (or lacks bubblewrap): "
    "sessions cannot be isolated here",
)

KEY = "akm-emulator-" + secrets.token_hex(8)
REAL_KEY = "akm-real-cloud-" + secrets.token_hex(8)  # what a developer's shell would hold
PROXY = "http://alice:proxy-password-" + secrets.token_hex(4) + "@proxy.invalid:3128"
LIMITS = {"processes": "64", "memory-mib": "256", "open-files": "256", "disk-mib": "32"}
CHECKOUT = Path(__file__).resolve().parents[2]


class Emu:
    """The emulator's process and a client of its API."""

    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        self.api = Api(httpx.Client(base_url=url, timeout=60))

    def shell(self, session_id: str, command: str, timeout_ms: int = 10_000) -> dict[str, Any]:
        payload, _ = self.api.tool(session_id, "shell", {"command": command,
                                                         "timeout_ms": timeout_ms}, key=KEY)
        assert isinstance(payload, dict), payload
        return payload

    def session(self) -> str:
        return self.api.create(key=KEY)


@pytest.fixture(scope="module")
def emu() -> Iterator[Emu]:
    env = dict(os.environ, AGENTBAY_EMULATOR_API_KEY=KEY, AGENTBAY_API_KEY=REAL_KEY,
               HTTPS_PROXY=PROXY, https_proxy=PROXY, NO_PROXY="127.0.0.1,localhost")
    limits = [arg for name, value in LIMITS.items() for arg in (f"--limit-{name}", value)]
    proc = subprocess.Popen([sys.executable, "-m", "pytest_agentbay.emulator", *limits],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    url = proc.stdout.readline().split()[4]
    emulator = Emu(proc, url)
    yield emulator
    emulator.api.client.close()
    proc.terminate()
    proc.communicate(timeout=20)


def _host_pids(*args: str) -> list[int]:
    """The host pids of processes running exactly `args`; a process started in the background
    may not have exec'd yet when its shell returns, so look again for a few seconds."""
    wanted = "\0".join(args).encode() + b"\0"
    deadline = time.monotonic() + 5
    while True:
        found = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            with contextlib.suppress(OSError):
                if cmdline.read_bytes() == wanted:
                    found.append(int(cmdline.parent.name))
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _serving(emu: Emu) -> None:
    """The emulator still answers, and a fresh session still runs a command at once."""
    assert emu.proc.poll() is None, "the emulator has died"
    started = time.monotonic()
    assert emu.shell(emu.session(), "echo alive")["stdout"] == "alive\n"
    assert time.monotonic() - started < 10


def test_another_sessions_tmp_is_unreachable_through_proc_root(emu: Emu) -> None:
    victim, thief = emu.session(), emu.session()
    emu.shell(victim, "echo victim-secret > /tmp/s; echo victim-secret > ~/s; sleep 30.71 &")
    pids = _host_pids("sleep", "30.71")
    assert pids
    paths = " ".join(f"/proc/{pid}/root/tmp/s /proc/{pid}/root/home/user/s" for pid in pids)
    seen = emu.shell(thief, f"cat /proc/[0-9]*/root/tmp/s /proc/[0-9]*/root/*/*/s {paths}; :")
    assert "victim-secret" not in seen["stdout"]


def test_a_session_sees_and_signals_only_its_own_processes(emu: Emu) -> None:
    victim, attacker = emu.session(), emu.session()
    emu.shell(victim, "sleep 30.72 &")
    victims = _host_pids("sleep", "30.72")
    assert victims
    listed = emu.shell(attacker, "cat /proc/[0-9]*/cmdline | tr '\\0' ' '; echo; "
                                 "ls -d /proc/[0-9]* | wc -l")["stdout"]
    assert "pytest_agentbay.emulator" not in listed and "30.72" not in listed
    assert int(listed.split()[-1]) < 10, listed  # the spawn server (init), this shell, its children
    targets = " ".join(str(pid) for pid in [*victims, emu.proc.pid])
    emu.shell(attacker, f"kill -9 {targets}; pkill -9 -f pytest_agentbay.emulator; :")
    assert all(_alive(pid) for pid in victims)
    _serving(emu)


def test_no_process_shows_a_key_or_the_hosts_environment(emu: Emu) -> None:
    session_id = emu.session()
    emu.shell(session_id, "sleep 30.73 &")
    dumped = emu.shell(session_id, "env; cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline "
                                   "| tr '\\0' '\\n'; :")["stdout"]
    for secret in (KEY, REAL_KEY, PROXY, "AGENTBAY_", "proxy-password"):
        assert secret not in dumped
    assert KEY.encode() not in Path(f"/proc/{emu.proc.pid}/cmdline").read_bytes()


def test_unmounting_or_entering_host_namespaces_cannot_write_to_the_host(
    emu: Emu, tmp_path: Path
) -> None:
    marker = "escaped-" + secrets.token_hex(6)
    host_file, host_tmp_file = tmp_path / marker, Path("/tmp") / marker
    session_id = emu.session()
    try:
        for attempt in (
            f"umount -l /tmp; echo x > /tmp/{marker}",
            f"nsenter -t {emu.proc.pid} -m -- sh -c 'echo x > {host_file}'",
            f"nsenter -t 1 -a -- sh -c 'echo x > {host_file}'",
            f"unshare -rm sh -c 'umount -l /tmp && echo x > /tmp/{marker}'",
            f"echo x > {host_file}",
        ):
            emu.shell(session_id, attempt)
            assert not host_file.exists() and not host_tmp_file.exists(), attempt
    finally:
        host_tmp_file.unlink(missing_ok=True)


def test_a_session_has_no_privileges(emu: Emu) -> None:
    status = emu.shell(emu.session(), "id -u; grep -E '^(Cap|NoNewPrivs|Seccomp:)' "
                                      "/proc/self/status; unshare -r true && echo unshared; "
                                      "mount -t tmpfs x /mnt && echo mounted; :")["stdout"]
    lines = dict(line.split(":\t") for line in status.splitlines()[1:] if ":\t" in line)
    assert status.split()[0] != "0"
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(lines[cap], 16) == 0, (cap, lines[cap])
    assert lines["NoNewPrivs"] == "1"
    assert "unshared" not in status and "mounted" not in status


def test_private_places_of_the_host_are_invisible(emu: Emu, tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"AGENTBAY_API_KEY={REAL_KEY}\n")
    seen = emu.shell(emu.session(), f"ls -a /root; ls /home; cat /etc/shadow /etc/gshadow "
                                    f"{dotenv} {CHECKOUT}/pyproject.toml; ls {CHECKOUT}; :")
    assert REAL_KEY not in seen["stdout"] and "[project]" not in seen["stdout"]
    assert seen["stdout"].split() == ["user"], seen  # /home holds the session's home alone
    assert "root:" not in seen["stdout"]


def test_a_fork_bomb_is_contained_and_the_emulator_keeps_serving(emu: Emu) -> None:
    bomber = emu.session()
    # Checked first, so that on a machine with no limit this test fails before it bombs.
    assert emu.shell(bomber, "ulimit -Hu")["stdout"] == LIMITS["processes"] + "\n"
    counted = emu.shell(bomber, "python3 -c '\nimport subprocess\nfor n in range(200):\n"
                                "    try: subprocess.Popen([\"sleep\", \"30.74\"])\n"
                                "    except OSError: break\nprint(n)'")
    assert 0 < int(counted["stdout"]) < int(LIMITS["processes"]), counted
    with ThreadPoolExecutor(1) as pool:
        bomb = pool.submit(emu.shell, bomber, "b() { b | b & }; b; sleep 5", 3000)
        time.sleep(1)
        _serving(emu)  # while the bomb goes off
        assert bomb.result(timeout=30)["errorCode"] == 124
    deadline = time.monotonic() + 10
    while emu.shell(bomber, "echo recovered").get("stdout") != "recovered\n":
        assert time.monotonic() < deadline, "the bombed session never recovered"
        time.sleep(0.5)


def test_memory_is_limited_per_process(emu: Emu) -> None:
    session_id = emu.session()
    eaten = emu.shell(session_id, "python3 -c 'b = bytearray(512 * 1024 * 1024); print(len(b))'")
    assert eaten.get("errorCode") == 1 and "MemoryError" in eaten["stderr"]
    _serving(emu)


def test_disk_in_tmp_and_home_is_limited(emu: Emu) -> None:
    session_id = emu.session()
    for where in ("/tmp", "$HOME"):
        filled = emu.shell(session_id, f"head -c 64M /dev/zero > {where}/big; "
                                       f"du -m {where}/big | cut -f1")
        assert "No space left on device" in filled["stderr"], filled
        assert int(filled["stdout"]) <= int(LIMITS["disk-mib"])
        emu.shell(session_id, f"rm -f {where}/big")


def test_open_files_are_limited(emu: Emu) -> None:
    raised = emu.shell(emu.session(), "ulimit -n 100000 && echo raised; python3 -c '"
                                      "fs = [open(\"/dev/null\") for _ in range(1000)]'")
    assert "raised" not in raised.get("stdout", "")
    assert "Too many open files" in raised["stderr"]
