"""OS plumbing for sandboxes: private mount namespaces and process-group bookkeeping."""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from pytest_agentbay.emulator import _spawner

HOME = "/root"
"""Where a namespaced session's home is mounted (its /tmp is the session's tmp)."""

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Run by the spawn server (see _spawner) inside its fresh mount (and, unprivileged, user)
# namespaces, where it then starts the commands (entering them per command with nsenter cost
# about 2 ms; starting the server costs about 20 ms once per sandbox).
# $1 session home, $2 where it is mounted, $3 session tmp, $4 sandbox root to hide ("" to skip).
_SETUP = """set -e
mount --bind "$1" "$2"
mount --bind "$3" /tmp
if [ -n "$4" ] && [ -d "$4" ]; then mount -t tmpfs -o mode=0755,size=64k agentbay "$4"; fi
"""
_DEAD = "the sandbox's namespace helper has died"
_ANSWER_SECONDS = 10.0  # bound on waiting for the helper: it may be stopped, not dead
_REAP_SECONDS = 5.0  # bound on waiting for the helper to reap a finished command
_EXIT_SECONDS = 1.0  # bound on waiting for the helper to report its last commands and exit


class Namespace:
    """A spawn server holding a sandbox's private mounts (home on /root, tmp on /tmp)."""

    def __init__(self, home: Path, tmp: Path, hide: str) -> None:
        user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
        argv = [tool("unshare"), *user, "--mount", "--propagation", "private", "--"]
        self._control, theirs = socket.socketpair()
        restore = ",".join(str(int(sig)) for sig in (signal.SIGPIPE, signal.SIGXFSZ))
        setup = [tool("sh"), "-c", _SETUP, "sh", str(home), HOME, str(tmp), hide]
        with theirs:
            self._helper = subprocess.Popen(
                [*argv, *_python(), str(theirs.fileno()), restore, *setup],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={"PATH": PATH},
                cwd="/",
                start_new_session=True,
                pass_fds=(theirs.fileno(),),
            )
        assert self._helper.stdout is not None and self._helper.stderr is not None
        try:
            if self._helper.stdout.readline() != b"ready\n":
                raise OSError("no ready signal")
            # Held open, the namespace outlives its processes: its inode number is not reused.
            self._mnt = os.open(f"/proc/{self._helper.pid}/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self._helper.kill()
            self._control.close()
            err = self._helper.communicate()[1].decode(errors="replace").strip()
            raise RuntimeError(f"cannot isolate with namespaces: {err}") from None
        self._helper.stdout.close()
        self._helper.stderr.close()
        self._lock = threading.Lock()  # one frame at a time on the control socket
        self._control.settimeout(_ANSWER_SECONDS)
        self._broken = False

    def spawn(self, argv: list[str], env: dict[str, str], workdir: str) -> NsChild | None:
        """Start ``argv`` in ``workdir`` inside the namespace; None if there is no ``workdir``."""
        if any("\0" in arg for arg in argv):
            raise ValueError("embedded null byte")
        pipes = (*os.pipe(), *os.pipe())  # stdout read, write; stderr read, write
        channel, theirs = socket.socketpair()
        try:
            with theirs:
                request = _spawner.frame(workdir, argv, env)
                self._send(request, [pipes[1], pipes[3], theirs.fileno()])
            os.close(pipes[1])
            os.close(pipes[3])
            kind, value = _answer(channel)
        except BaseException:
            channel.close()
            for fd in pipes:
                with contextlib.suppress(OSError):
                    os.close(fd)
            raise
        if kind == _spawner.STARTED:
            return NsChild(value, channel, pipes[0], pipes[2])
        channel.close()
        os.close(pipes[0])
        os.close(pipes[2])
        if kind == _spawner.NO_WORKDIR:
            return None
        raise OSError(value, os.strerror(value))

    def close(self) -> None:
        """SIGKILL everything in the namespace, then let the helper report the ends and exit."""
        _kill_namespace(self._helper.pid, os.fstat(self._mnt))
        with self._lock:
            self._broken = True
            self._control.close()  # the helper exits once its commands are released
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._helper.wait(_EXIT_SECONDS)
        self._helper.kill()
        self._helper.communicate()
        os.close(self._mnt)

    def _send(self, data: bytes, fds: list[int]) -> None:
        with self._lock:
            if self._broken:
                raise RuntimeError(_DEAD)
            try:
                sent = socket.send_fds(self._control, [data], fds)
                if sent < len(data):
                    self._control.sendall(memoryview(data)[sent:])
            except OSError as exc:
                self._broken = True  # a frame may be cut short: the stream is unusable
                raise RuntimeError(_DEAD) from exc


class NsChild:
    """A command the namespace helper started: pid (and group id), pipes, how it ended."""

    def __init__(self, pid: int, channel: socket.socket, stdout: int, stderr: int) -> None:
        self.pid = pid
        self.stdout = stdout
        self.stderr = stderr
        self.returncode: int | None = None
        self._channel = channel
        self._buffer = b""
        channel.setblocking(False)

    def exit_fd(self) -> int:
        """Readable when the helper reports the exit (or dies)."""
        return self._channel.fileno()

    def exited(self) -> bool:
        """Whether the command has ended; its leader stays unreaped until ``release()``."""
        if self.returncode is None:
            try:
                chunk = self._channel.recv(_spawner.REPLY_SIZE - len(self._buffer))
            except BlockingIOError:
                return False
            if not chunk:
                raise RuntimeError(_DEAD)
            self._buffer += chunk
            if len(self._buffer) == _spawner.REPLY_SIZE:
                self.returncode = _spawner.parse(self._buffer)[1]
        return self.returncode is not None

    def release(self) -> None:
        """Let the helper reap the leader, wait (boundedly) until it has, close everything."""
        with contextlib.suppress(OSError):
            self._channel.shutdown(socket.SHUT_WR)
            self._channel.settimeout(_REAP_SECONDS)
            while self._channel.recv(64):
                pass
        self._channel.close()
        os.close(self.stdout)
        os.close(self.stderr)


class PopenChild:
    """A command started directly (directories mode): same interface as NsChild."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str) -> None:
        self._proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self.pid = self._proc.pid
        self.stdout = self._proc.stdout.fileno()
        self.stderr = self._proc.stderr.fileno()
        self.returncode: int | None = None
        self._pidfd = _spawner.pidfd(self.pid)

    def exit_fd(self) -> int | None:
        return self._pidfd

    def exited(self) -> bool:
        # WNOWAIT leaves the leader unreaped, so its process group id cannot be reused meanwhile.
        try:
            return os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:
            return True

    def release(self) -> None:
        self.returncode = self._proc.wait()
        for stream in (self._proc.stdout, self._proc.stderr):
            if stream is not None:
                stream.close()
        if self._pidfd is not None:
            os.close(self._pidfd)


Child = NsChild | PopenChild
"""A started command: its pid is its process group id; exit_fd() wakes up selectors."""


def _answer(channel: socket.socket) -> tuple[bytes, int]:
    """The helper's answer to a request: STARTED, NO_WORKDIR or FAILED, and its value."""
    channel.settimeout(_ANSWER_SECONDS)
    data = b""
    while len(data) < _spawner.REPLY_SIZE:
        try:
            chunk = channel.recv(_spawner.REPLY_SIZE - len(data))
        except TimeoutError:
            raise RuntimeError("the sandbox's namespace helper does not answer") from None
        if not chunk:
            raise RuntimeError(_DEAD)
        data += chunk
    return _spawner.parse(data)


@functools.cache
def _python() -> list[str]:
    """How to run the spawn server: this interpreter, isolated, without site (faster)."""
    source = inspect.getsource(_spawner)
    return [sys.executable or tool("python3"), "-I", "-S", "-c", source]


def _kill_namespace(helper_pid: int, target: os.stat_result) -> None:
    # ``target`` is the namespace, held open so that its inode number cannot be reused by a new
    # sandbox's namespace (whose processes we would then kill). The helper is spared until the
    # end all the same: it reports how the killed commands ended.
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
