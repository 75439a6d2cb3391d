"""The spawn server of a sandbox: it starts the session's commands from inside the sandbox.

The emulator runs this file's source as ``python -I -S -c SOURCE CONTROL_FD SIGNALS LIMITS``
inside bubblewrap (see `_bwrap`), so it has the session's view, user and limits before it starts
anything; it sets the limits on itself (hard and soft: no command can raise them), prints
"ready", and serves until the control socket is closed and every command it started has been
released. Imports are few and cheap (start-up is paid once per sandbox). The emulator imports
this module too (for the protocol), on any OS: names only Linux has are looked up when used.

Protocol. Emulator to server, on the control socket (a stream), one frame per request: a
4-byte length, then ``marshal((workdir, argv, env))``; four descriptors ride on the frame: the
command's stdin, stdout and stderr, and its channel, one end of a fresh socketpair. A frame of
``marshal(KILL_ALL)`` with no descriptors kills every process of the sandbox but the server.
Server to emulator, on the channel: 9-byte replies (a kind byte, then a signed 64-bit value),
first STARTED (or NO_WORKDIR, or FAILED), later EXITED. Emulator to server on the channel: KILL
(SIGKILL the command's process group), then end of file once the emulator is done. The command
leads its own session and process group; its leader is not reaped before that end of file, so
the group id cannot be reused meanwhile; the server closes the channel once it has reaped it.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # not signal: it imports enum (+0.7 MiB)
import _socket
import errno
import marshal
import os
import resource
import select
import sys
from _socket import socket

STARTED = b"P"  # value: the pid, also the command's session and process group id
NO_WORKDIR = b"D"  # value: errno of chdir
FAILED = b"E"  # value: errno of posix_spawn
EXITED = b"X"  # value: the exit code, or minus the signal that killed the command
KILL = b"K"  # emulator to server on a channel
KILL_ALL = "kill-all"
REPLY_SIZE = 9
FDS = 4  # stdin, stdout, stderr, channel
_HEADER = 4
_POLL_SECONDS = 0.01  # exit polling interval where pidfds are unavailable


def frame(workdir: str, argv: list[str], env: dict[str, str]) -> bytes:
    """One request to start ``argv`` with ``env`` in ``workdir``."""
    return _framed(marshal.dumps((workdir, argv, env)))


def kill_all_frame() -> bytes:
    """The request to kill every process of the sandbox but the server."""
    return _framed(marshal.dumps(KILL_ALL))


def _framed(body: bytes) -> bytes:
    return len(body).to_bytes(_HEADER, "big") + body


def reply(kind: bytes, value: int) -> bytes:
    return kind + value.to_bytes(REPLY_SIZE - 1, "big", signed=True)


def parse(data: bytes) -> tuple[bytes, int]:
    return data[:1], int.from_bytes(data[1:REPLY_SIZE], "big", signed=True)


class _Child:
    def __init__(self, pid: int, channel: socket) -> None:
        self.pid = pid
        self.channel = channel
        self.pidfd = pidfd(pid)
        self.code: int | None = None
        self.released = False


class Server:
    """Starts commands on request, reports how they end, reaps them once released."""

    def __init__(self, control: socket, restore: tuple[int, ...]) -> None:
        self._control: socket | None = control
        self._restore = restore
        self._poll = select.epoll()
        self._poll.register(control.fileno(), select.EPOLLIN)
        self._children: dict[int, _Child] = {}  # by channel descriptor
        self._wake = -1
        if os.getpid() == 1:  # the PID namespace's init (bwrap --as-pid-1): orphans come to us
            self._wake, wake = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
            _signal.set_wakeup_fd(wake)
            _signal.signal(_signal.SIGCHLD, lambda number, frame: None)
            self._poll.register(self._wake, select.EPOLLIN)

    def serve(self) -> None:
        while self._control is not None or self._children:
            polling = any(c.pidfd is None and c.code is None for c in self._children.values())
            for fd, _ in self._poll.poll(_POLL_SECONDS if polling else -1):
                if self._control is not None and fd == self._control.fileno():
                    self._request(self._control)
                elif fd in self._children:
                    self._release(self._children[fd])
                elif fd == self._wake:
                    os.read(fd, 4096)
                    self._reap_orphans()
            self._report_exits()

    def _reap_orphans(self) -> None:
        """Reap the dead orphans (background jobs) that came to us; not our commands' leaders."""
        ours = {child.pid for child in self._children.values()}
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in ours:
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    state, parent = stat.read().rsplit(b")", 1)[1].split()[:2]
                if state == b"Z" and parent == b"1":
                    os.waitpid(int(entry), os.WNOHANG)
            except OSError:
                continue

    def _request(self, control: socket) -> None:
        got = _receive(control)
        if got is None:  # the emulator is done with this sandbox
            self._poll.unregister(control.fileno())
            control.close()
            self._control = None
            return
        body, fds = got
        if not fds and body == marshal.dumps(KILL_ALL):
            _kill_all()
            return
        if len(fds) != FDS:
            for fd in fds:
                os.close(fd)
            return
        channel = socket(fileno=fds[3])
        channel.setblocking(False)
        try:
            kind, value = self._start(body, fds[:3])
        finally:
            for fd in fds[:3]:
                os.close(fd)
        _send(channel, kind, value)
        if kind != STARTED:
            channel.close()
            return
        child = _Child(value, channel)
        self._children[channel.fileno()] = child
        self._poll.register(channel.fileno(), select.EPOLLIN)
        if child.pidfd is not None:
            self._poll.register(child.pidfd, select.EPOLLIN)

    def _start(self, body: bytes, stdio: list[int]) -> tuple[bytes, int]:
        try:
            workdir, argv, env = marshal.loads(body)
            os.chdir(workdir)
        except OSError as exc:
            return NO_WORKDIR, exc.errno or errno.ENOENT
        except (ValueError, TypeError, EOFError):
            return FAILED, errno.EINVAL
        actions = [(os.POSIX_SPAWN_DUP2, fd, number) for number, fd in enumerate(stdio)]
        try:
            pid = os.posix_spawnp(
                argv[0], argv, env, file_actions=actions, setsid=True,
                setsigdef=self._restore, setsigmask=(),
            )
        except OSError as exc:
            return FAILED, exc.errno or errno.EINVAL
        except (ValueError, TypeError, IndexError):
            return FAILED, errno.EINVAL
        return STARTED, pid

    def _release(self, child: _Child) -> None:
        try:
            data = child.channel.recv(64)  # KILL, or end of file: the emulator is done
        except BlockingIOError:
            return  # a stale event: the descriptor was reused
        except OSError:
            data = b""
        if data:
            if KILL in data:  # the leader is not reaped yet: the group id is still its own
                try:  # noqa: SIM105  # contextlib would slow the start-up down
                    os.killpg(child.pid, _signal.SIGKILL)
                except OSError:
                    pass
            return
        self._poll.unregister(child.channel.fileno())
        child.released = True

    def _report_exits(self) -> None:
        for fd, child in list(self._children.items()):
            if child.code is None:
                flags = os.WEXITED | os.WNOHANG | os.WNOWAIT  # leave it unreaped
                info = os.waitid(os.P_PID, child.pid, flags)
                if info is None:
                    continue
                exited = info.si_code == os.CLD_EXITED
                child.code = info.si_status if exited else -info.si_status
                if child.pidfd is not None:
                    os.close(child.pidfd)
                _send(child.channel, EXITED, child.code)
            if child.released:
                os.waitpid(child.pid, 0)
                child.channel.close()
                del self._children[fd]


def _receive(control: socket) -> tuple[bytes, list[int]] | None:
    """The next frame's body and descriptors; None at the end of the stream."""
    space, cloexec = _socket.CMSG_SPACE(FDS * 4), _socket.MSG_CMSG_CLOEXEC
    head, ancillary, _, _ = control.recvmsg(_HEADER, space, cloexec)
    fds = [
        int.from_bytes(data[i : i + 4], sys.byteorder)
        for level, kind, data in ancillary
        if (level, kind) == (_socket.SOL_SOCKET, _socket.SCM_RIGHTS)
        for i in range(0, len(data) - 3, 4)
    ]
    rest = _exactly(control, _HEADER - len(head)) if head else None
    body = None if rest is None else _exactly(control, int.from_bytes(head + rest, "big"))
    if body is None:
        for fd in fds:
            os.close(fd)
        return None
    return body, fds


def _exactly(control: socket, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = control.recv(min(size - len(data), 1 << 20))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _send(channel: socket, kind: bytes, value: int) -> None:
    try:
        channel.send(reply(kind, value))
    except OSError:  # the emulator has gone; the channel's end of file releases the command
        return


def pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when ``pid`` exits, or None where the OS has none."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _kill_all() -> None:
    try:  # noqa: SIM105  # contextlib would slow the start-up down
        os.kill(-1, _signal.SIGKILL)  # in our PID namespace: all but its init and ourselves
    except OSError:
        pass


def limit(processes: int, memory: int, open_files: int) -> None:
    """Set the sandbox's limits on this process, for it and everything it starts."""
    for kind, value in (
        (resource.RLIMIT_NPROC, processes),  # counted per user namespace: this sandbox only
        (resource.RLIMIT_DATA, memory),
        (resource.RLIMIT_NOFILE, open_files),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(kind, (value, value))


def main(argv: list[str]) -> int:
    """argv: the control socket's descriptor, signals to reset in commands, limits."""
    os.set_inheritable(int(argv[0]), False)
    control = socket(fileno=int(argv[0]))
    restore = tuple(int(number) for number in argv[1].split(",") if number)
    processes, memory, open_files = (int(number) for number in argv[2].split(","))
    limit(processes, memory, open_files)
    os.write(1, b"ready\n")
    Server(control, restore).serve()
    return 0


if __name__ == "__main__":
    os._exit(main(sys.argv[1:]))
