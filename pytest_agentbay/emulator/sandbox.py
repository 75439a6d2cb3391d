"""Per-session sandboxes that really run commands: bash, timeouts, output caps, isolation."""

from __future__ import annotations

import contextlib
import functools
import os
import posixpath
import pwd
import selectors
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pytest_agentbay.emulator._isolation import (
    HOME,
    PATH,
    Child,
    Namespace,
    PopenChild,
    group_alive,
    killpg,
    start_time,
    tool,
)
from pytest_agentbay.emulator.records import TIMEOUT_EXIT_CODE

OUTPUT_CAP = 1024 * 1024
"""Bytes kept per stream (stdout, stderr) of one command: 1 MiB. The rest is read and discarded."""

NAMESPACES = "namespaces"
DIRECTORIES = "directories"

_CHUNK = 65536
_DRAIN_SECONDS = 0.05  # bound on reading leftovers once the shell has ended or been killed
_POLL_SECONDS = 0.01  # exit polling interval where pidfds are unavailable


@dataclass(frozen=True)
class RunResult:
    """What one command printed and how it ended (on timeout: exit code 124, output so far)."""

    stdout: str
    stderr: str
    exit_code: int
    timed_out: bool
    truncated: bool


@functools.cache
def detect_isolation() -> str:
    """Return "namespaces" if private mounts actually work on this OS, else "directories"."""
    if not sys.platform.startswith("linux") or not shutil.which("unshare"):
        return DIRECTORIES
    with tempfile.TemporaryDirectory() as tmp:
        try:
            box = Sandbox(Path(tmp), "probe", NAMESPACES)
        except (OSError, RuntimeError):
            return DIRECTORIES
        try:
            ok = box.run('test -w /tmp && test -w "$HOME"', timeout_ms=5000).exit_code == 0
        finally:
            box.close()
    return NAMESPACES if ok else DIRECTORIES


class Sandbox:
    """The machine of one emulated session: runs ``bash -c command`` in its own home and tmp.

    Files live in ``root/name/home`` and ``root/name/tmp``. Every command gets a clean
    environment (nothing of the host's, which may hold API keys) and its own process group.

    - ``"namespaces"``: a long-lived helper holds a private mount namespace (user namespace too
      when not root) where the session home is mounted on /root, the session tmp on /tmp, and
      the sandbox root is hidden. It starts the commands there (no per-command namespace
      entry), so files under HOME, /tmp or TMPDIR are invisible to other sessions.
    - ``"directories"``: HOME and TMPDIR point into the session's directories and commands
      start there. A command that writes to the literal /tmp path is NOT isolated in this mode.

    Background jobs may outlive their command (``server &``); ``close()`` kills them, every
    still-running command, and in namespaces mode anything else left in the namespace (in
    directories mode, a process that leaves its process group, e.g. via setsid, survives).
    """

    def __init__(self, root: Path, name: str, isolation: str) -> None:
        if isolation not in (NAMESPACES, DIRECTORIES):
            raise ValueError(f"isolation must be {NAMESPACES!r} or {DIRECTORIES!r}: {isolation!r}")
        if name in ("", ".", "..") or "/" in name or "\0" in name:
            raise ValueError(f"sandbox name must be a single path component, not {name!r}")
        root = Path(root).resolve()
        self.path = root / name
        self.path.mkdir(parents=True)
        (self.path / "home").mkdir()
        (self.path / "tmp").mkdir()
        self.isolation = isolation
        self._lock = threading.Lock()
        self._groups: dict[int, int | None] = {}  # process group id -> leader start time
        self._closed = False
        self._ns: Namespace | None = None
        if isolation == NAMESPACES:
            try:
                hide = "" if root == Path("/") else str(root)
                self._ns = Namespace(self.path / "home", self.path / "tmp", hide)
            except BaseException:
                _rmtree(self.path)
                raise
            self.home, self._tmp, self._user = HOME, "/tmp", "root"
        else:
            self.home, self._tmp = str(self.path / "home"), str(self.path / "tmp")
            self._user = _host_user()

    def run(
        self,
        command: str,
        *,
        timeout_ms: int,
        cwd: str | None = None,
        envs: Mapping[str, str] | None = None,
    ) -> RunResult:
        """Run ``bash -c command``; cwd (relative to HOME) and envs are process parameters."""
        if timeout_ms <= 0:
            raise ValueError(f"timeout_ms must be positive, not {timeout_ms}")
        if self._closed:
            raise RuntimeError(f"sandbox {self.path.name} is closed")
        env = self._environment(envs)
        workdir = posixpath.join(self.home, cwd) if cwd else self.home
        spawned = self._spawn(command, workdir, env)
        if spawned is None:
            return RunResult("", f"bash: cd: {cwd}: No such file or directory\n", 1, False, False)
        proc, start = spawned
        timed_out = True
        try:
            out, err, timed_out = _collect(proc, timeout_ms / 1000)
        finally:
            self._settle(proc, start, kill=timed_out)
        code = TIMEOUT_EXIT_CODE if timed_out else _exit_code(proc.returncode)
        return RunResult(out.text(), err.text(), code, timed_out, out.truncated or err.truncated)

    def close(self) -> None:
        """Kill running commands and background jobs, then remove the sandbox's files."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            groups = dict(self._groups)
        for pgid, start in groups.items():
            # A reaped leader's id may be reused only once its whole group is gone.
            if start is None or start_time(pgid) in (None, start):
                killpg(pgid)
        if self._ns is not None:
            self._ns.close()
        _rmtree(self.path)

    def _environment(self, envs: Mapping[str, str] | None) -> dict[str, str]:
        env = {
            "HOME": self.home,
            "TMPDIR": self._tmp,
            "PATH": PATH,
            "LANG": "C.UTF-8",
            "USER": self._user,
            "LOGNAME": self._user,
            "SHELL": tool("bash"),
        }
        for key, value in (envs or {}).items():
            if not key or "=" in key or "\0" in key or "\0" in value:
                raise ValueError(f"invalid environment variable {key!r}")
            env[key] = value
        return env

    def _spawn(
        self, command: str, workdir: str, env: dict[str, str]
    ) -> tuple[Child, int | None] | None:
        """The started command and its start time; None if ``workdir`` does not exist."""
        argv = [tool("bash"), "-c", command]
        proc: Child | None
        if self._ns is not None:
            proc = self._ns.spawn(argv, env, workdir)
        else:
            proc = PopenChild(argv, env, workdir) if os.path.isdir(workdir) else None
        if proc is None:
            return None
        start = start_time(proc.pid)
        with self._lock:
            self._groups[proc.pid] = start
            closed = self._closed
        if closed:  # close() ran while we were spawning and could not see this group
            killpg(proc.pid)
        return proc, start

    def _settle(self, proc: Child, start: int | None, *, kill: bool) -> None:
        if kill:
            killpg(proc.pid)  # the leader is not reaped yet, so the group id is still ours
        proc.release()
        if not group_alive(proc.pid):
            with self._lock:
                if self._groups.get(proc.pid, start) == start:
                    self._groups.pop(proc.pid, None)


class _Capture:
    """One output stream, kept up to OUTPUT_CAP bytes."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.truncated = False

    def feed(self, chunk: bytes) -> None:
        room = OUTPUT_CAP - len(self.data)
        if len(chunk) > room:
            self.truncated = True
            chunk = chunk[:room]
        self.data += chunk

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


def _collect(proc: Child, timeout: float) -> tuple[_Capture, _Capture, bool]:
    """Read both pipes until the shell exits (not until every holder closes them) or time is up."""
    out, err = _Capture(), _Capture()
    streams = {proc.stdout: out, proc.stderr: err}
    deadline = time.monotonic() + timeout
    exited = False
    wake = proc.exit_fd()
    with selectors.DefaultSelector() as sel:
        if wake is not None:
            sel.register(wake, selectors.EVENT_READ)
        for fd in streams:
            sel.register(fd, selectors.EVENT_READ)
        while not exited and (remaining := deadline - time.monotonic()) > 0:
            for key, _ in sel.select(remaining if wake is not None else _POLL_SECONDS):
                if key.fd in streams:
                    chunk = os.read(key.fd, _CHUNK)
                    if chunk:
                        streams[key.fd].feed(chunk)
                    else:
                        sel.unregister(key.fd)
            exited = proc.exited()
    _drain(streams)
    return out, err, not exited


def _drain(streams: dict[int, _Capture]) -> None:
    """Take what is already buffered; background jobs may hold the pipes open forever."""
    end = time.monotonic() + _DRAIN_SECONDS
    for fd, capture in streams.items():
        os.set_blocking(fd, False)
        with contextlib.suppress(BlockingIOError):
            while time.monotonic() < end and (chunk := os.read(fd, _CHUNK)):
                capture.feed(chunk)


def _exit_code(returncode: int | None) -> int:
    assert returncode is not None  # known once the command has exited
    return returncode if returncode >= 0 else 128 - returncode


def _rmtree(path: Path) -> None:
    for _ in range(20):  # killed commands may still be writing for a moment
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            return
        time.sleep(0.005)


@functools.cache
def _host_user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())
