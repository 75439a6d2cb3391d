"""OS plumbing for sandboxes: private mount namespaces and process-group bookkeeping."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

HOME = "/root"
"""Where a namespaced session's home is mounted (its /tmp is the session's tmp)."""

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Runs inside fresh mount (and, unprivileged, user) namespaces, then waits on stdin: when the
# owner closes the pipe, or dies, the helper exits. Entering its namespaces with nsenter costs
# about 1 ms per command; a fresh `unshare` per command cost about 4 ms.
# $1 session home, $2 where it is mounted, $3 session tmp, $4 sandbox root to hide ("" to skip).
_SETUP = """set -e
mount --bind "$1" "$2"
mount --bind "$3" /tmp
if [ -n "$4" ] && [ -d "$4" ]; then mount -t tmpfs -o mode=0755,size=64k agentbay "$4"; fi
echo ready
exec cat >/dev/null
"""


class Namespace:
    """A helper process holding a sandbox's private mounts: home on /root, tmp on /tmp."""

    def __init__(self, home: Path, tmp: Path, hide: str) -> None:
        user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
        argv = [tool("unshare"), *user, "--mount", "--propagation", "private", "--"]
        self._helper = subprocess.Popen(
            [*argv, tool("sh"), "-c", _SETUP, "sh", str(home), HOME, str(tmp), hide],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={"PATH": PATH},
            start_new_session=True,
        )
        assert self._helper.stdout is not None and self._helper.stderr is not None
        if self._helper.stdout.readline() != b"ready\n":
            self._helper.kill()
            err = self._helper.communicate()[1].decode(errors="replace").strip()
            raise RuntimeError(f"cannot isolate with namespaces: {err}")
        self._helper.stdout.close()
        self._helper.stderr.close()

    def host_path(self, path: str) -> str:
        """The host's name for ``path`` as the namespace sees it (so /tmp is the session's)."""
        return f"/proc/{self._helper.pid}/root{path}"

    def enter(self, workdir: str, argv: list[str]) -> list[str]:
        """``argv`` prefixed to run inside the namespace, starting in ``workdir`` there."""
        # Until poll() reaps the helper, its pid (and so its /proc entry) cannot be reused.
        if self._helper.poll() is not None:
            raise RuntimeError("the sandbox's namespace helper has died")
        ns = f"/proc/{self._helper.pid}/ns"
        user = [] if os.geteuid() == 0 else [f"--user={ns}/user", "--preserve-credentials"]
        # nsenter opens --wd before entering, hence the path through the helper's /proc root.
        wd = f"--wd={self.host_path(workdir)}"
        return [tool("nsenter"), *user, f"--mount={ns}/mnt", wd, "--", *argv]

    def close(self) -> None:
        """SIGKILL everything in the namespace, including processes that left their group."""
        _kill_namespace(self._helper.pid)
        self._helper.kill()
        self._helper.communicate()


def _kill_namespace(helper_pid: int) -> None:
    try:
        target = os.stat(f"/proc/{helper_pid}/ns/mnt")
    except OSError:
        return
    # The helper is spared until the end: while it lives the namespace does, so its inode
    # number cannot be reused by a new sandbox's namespace (whose helper we would then kill).
    for _ in range(50):
        victims = [
            pid
            for pid in _pids()
            if pid != helper_pid and _same_file(f"/proc/{pid}/ns/mnt", target)
        ]
        for pid in victims:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if not victims:
            return
        time.sleep(0.002)


def _pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _same_file(path: str, target: os.stat_result) -> bool:
    try:
        st = os.stat(path)  # fails for zombies, which are dead already
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino)


def killpg(pgid: int) -> None:
    """SIGKILL a process group, if it still exists."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def group_alive(pgid: int) -> bool:
    """Whether any process (zombies included) is still in the group."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def start_time(pid: int) -> int | None:
    """When ``pid`` started (ticks since boot), to tell a reused pid apart; None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return int(fields[19])


@functools.cache
def tool(name: str) -> str:
    """The absolute path of a program the sandboxes need."""
    found = shutil.which(name) or shutil.which(name, path=PATH)
    if found is None:
        raise RuntimeError(f"the emulator's sandboxes need {name!r} on PATH")
    return found
