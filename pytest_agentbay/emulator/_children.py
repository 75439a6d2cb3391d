"""Started commands: the namespace helper's children and direct ones, and process groups."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess

from pytest_agentbay.emulator import _spawner

_DEAD = "the sandbox's namespace helper has died"
_REAP_SECONDS = 5.0  # bound on waiting for the helper to reap a finished command


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

    def kill(self) -> None:
        """Have the helper SIGKILL the command's process group (it knows the pids in there)."""
        with contextlib.suppress(OSError):
            self._channel.send(_spawner.KILL)

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

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str, stdin: int) -> None:
        self._proc = subprocess.Popen(
            argv,
            stdin=stdin,
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

    def kill(self) -> None:
        """SIGKILL the command's process group (its leader is not reaped yet)."""
        killpg(self.pid)

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
