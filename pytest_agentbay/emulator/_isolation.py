"""OS plumbing for sandboxes: the bubblewrap sandbox's spawn server, and the tools it needs."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import threading

from pytest_agentbay.emulator import _bwrap, _spawner
from pytest_agentbay.emulator._children import _DEAD, NsChild
from pytest_agentbay.emulator.limits import MIB, Limits

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_ANSWER_SECONDS = 10.0  # bound on waiting for the helper: it may be stopped, not dead
_EXIT_SECONDS = 1.0  # bound on waiting for the helper to report its last commands and exit
OPEN_FILES = 65536  # the soft limit on open files the emulator raises itself to (see below)


@functools.cache
def _room_for_sessions() -> None:
    """Raise this process's soft limit on open files towards its hard limit, once: each live
    session holds a few descriptors here (its spawn server's, its file agent's), and the usual
    soft limit of 1024 would refuse new sessions after a hundred or two. (The sessions' own
    limit is set apart, by `Limits.open_files`.)"""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, OPEN_FILES)
    if soft != resource.RLIM_INFINITY and soft < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


class Namespace:
    """A spawn server (see `_spawner`) inside a bubblewrap sandbox (see `_bwrap`).

    It starts the session's commands in there (entering the namespaces per command would cost
    a few ms each). It is the init of the sandbox's PID namespace: the session cannot signal
    it, and when it ends, every process of the session dies.
    """

    def __init__(self, limits: Limits) -> None:
        _room_for_sessions()
        self._control, theirs = socket.socketpair()
        info, info_w = os.pipe()
        passwd, groups = _bwrap.accounts()
        fds = {"passwd": _memfd(passwd), "group": _memfd(groups), "info": info_w}
        program = _bwrap.seccomp()
        if program is not None:
            fds["seccomp"] = _memfd(program)
        restore = ",".join(str(int(sig)) for sig in (signal.SIGPIPE, signal.SIGXFSZ))
        sizes = f"{limits.processes},{limits.memory_mib * MIB},{limits.open_files}"
        server = [*_bwrap.spawn_server(), str(theirs.fileno()), restore, sizes]
        argv = [*_bwrap.argv(limits, fds), *server]
        user, group = _bwrap.host_ids() or (None, None)
        try:
            self._helper = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env={"PATH": PATH}, cwd="/", start_new_session=True,
                pass_fds=(theirs.fileno(), *fds.values()),
                user=user, group=group, extra_groups=None if user is None else [],
            )  # fmt: skip
        except BaseException:
            self._control.close()
            os.close(info)
            raise
        finally:
            theirs.close()
            for fd in fds.values():
                os.close(fd)
        self._init = self._started(info)
        self._lock = threading.Lock()  # one frame at a time on the control socket
        self._control.settimeout(_ANSWER_SECONDS)
        self._broken = False

    def _started(self, info: int) -> int:
        """Wait for "ready"; return a pidfd of the PID namespace's init (bwrap's child)."""
        assert self._helper.stdout is not None and self._helper.stderr is not None
        try:
            with os.fdopen(info, "rb") as stream:
                ready = self._helper.stdout.readline() == b"ready\n"
                if not ready:
                    raise OSError("no ready signal")
                os.set_blocking(stream.fileno(), False)
                init_pid = int(json.loads(stream.read() or b"{}")["child-pid"])
            return os.pidfd_open(init_pid)  # the spawn server itself
        except (OSError, ValueError, KeyError):
            self._helper.kill()
            self._control.close()
            err = self._helper.communicate()[1].decode(errors="replace").strip()
            raise RuntimeError(f"cannot isolate with bubblewrap: {err or 'it failed'}") from None
        finally:
            self._helper.stdout.close()
            self._helper.stderr.close()

    def spawn(
        self, argv: list[str], env: dict[str, str], workdir: str, stdin: int
    ) -> NsChild | None:
        """Start ``argv`` in ``workdir`` inside the sandbox; None if there is no ``workdir``."""
        if any("\0" in arg for arg in argv):
            raise ValueError("embedded null byte")
        pipes = (*os.pipe(), *os.pipe())  # stdout read, write; stderr read, write
        channel, theirs = socket.socketpair()
        try:
            with theirs:
                request = _spawner.frame(workdir, argv, env)
                self._send(request, [stdin, pipes[1], pipes[3], theirs.fileno()])
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

    @property
    def init_pid(self) -> int | None:
        """The host pid of the sandbox's PID namespace init, while it lives."""
        with contextlib.suppress(OSError), open(f"/proc/self/fdinfo/{self._init}") as fdinfo:
            for line in fdinfo:
                if line.startswith("Pid:"):
                    pid = int(line.split()[1])
                    return pid if pid > 0 else None
        return None

    def close(self) -> None:
        """Kill every process of the sandbox, let the helper report the ends, end the sandbox."""
        with contextlib.suppress(RuntimeError):
            self._send(_spawner.kill_all_frame(), [])
        with self._lock:
            self._broken = True
            self._control.close()  # the helper exits once its commands are released
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._helper.wait(_EXIT_SECONDS)
        with contextlib.suppress(OSError):  # a helper that hangs on: its namespace ends with init
            signal.pidfd_send_signal(self._init, signal.SIGKILL)
        self._helper.kill()
        self._helper.wait()
        os.close(self._init)

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


def _memfd(data: bytes) -> int:
    """A descriptor to read ``data`` from (bubblewrap reads its files and programs so)."""
    fd = os.memfd_create("agentbay")  # close-on-exec: bwrap gets it through pass_fds only
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


@functools.cache
def tool(name: str) -> str:
    """The absolute path of a program the sandboxes need."""
    found = shutil.which(name) or shutil.which(name, path=PATH)
    if found is None:
        raise RuntimeError(f"the emulator's sandboxes need {name!r} on PATH")
    return found
