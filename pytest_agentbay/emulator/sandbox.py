"""Per-session sandboxes that really run commands: bash, timeouts, output caps, isolation."""

from __future__ import annotations

import functools
import os
import posixpath
import pwd
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_agentbay.emulator import _bwrap
from pytest_agentbay.emulator._agents import AgentPool, Running
from pytest_agentbay.emulator._children import (
    Child,
    NsChild,
    PopenChild,
    group_alive,
    killpg,
    start_time,
)
from pytest_agentbay.emulator._isolation import PATH, Namespace, tool
from pytest_agentbay.emulator._streams import collect
from pytest_agentbay.emulator.limits import DEFAULT_LIMITS, Limits
from pytest_agentbay.emulator.records import TIMEOUT_EXIT_CODE

OUTPUT_CAP = DEFAULT_LIMITS.output_bytes
"""Bytes kept per stream (stdout, stderr) of one command by default: 1 MiB; the rest is read
and discarded, and the result says ``truncated``."""

NAMESPACES = "namespaces"
DIRECTORIES = "directories"
NOT_ISOLATED = (
    "sessions are NOT isolated: their commands run as this user, see this machine's files "
    "and processes, and have no resource limits"
)



@dataclass(frozen=True)
class ExecResult:
    """What one program wrote, as bytes, and how it ended (on timeout: exit code 124)."""

    stdout: bytes
    stderr: bytes
    exit_code: int
    timed_out: bool
    truncated: bool  # some output was cut at the output limit


@dataclass(frozen=True)
class RunResult:
    """What one command printed and how it ended (on timeout: exit code 124, output so far)."""

    stdout: str
    stderr: str
    exit_code: int
    timed_out: bool
    truncated: bool


@functools.cache
def isolation_problem() -> str | None:
    """Why sessions cannot be isolated on this machine (None: they can), probed once."""
    problem = _bwrap.problem()
    if problem is not None:
        return problem
    with tempfile.TemporaryDirectory() as tmp:
        try:
            box = Sandbox(Path(tmp), "probe", NAMESPACES)
        except (OSError, RuntimeError) as exc:
            return str(exc)
        try:
            probe = box.run('test -w /tmp && test -w "$HOME" && test ! -e /root', timeout_ms=5000)
        finally:
            box.close()
    if probe.exit_code != 0:
        return f"the sandbox probe failed: {probe.stderr.strip() or probe.exit_code}"
    return None


def detect_isolation() -> str:
    """Return "namespaces" if bubblewrap sandboxes work here, else "directories"."""
    return DIRECTORIES if isolation_problem() is not None else NAMESPACES


class Sandbox:
    """The machine of one emulated session: runs its commands and programs.

    - ``"namespaces"``: a bubblewrap sandbox (see `_bwrap` for what it sees and may do): an
      unprivileged user in its own user, PID and mount namespaces, with ``limits``, a private
      ``/tmp`` and home, and a long-lived helper inside that starts the commands (a command
      costs what bare bash does). ``close()`` ends the PID namespace: nothing survives it.
    - ``"directories"``: NOT isolated (see ``NOT_ISOLATED``), for machines without namespaces:
      HOME and TMPDIR point into ``root/name`` and commands run there as this user.

    Every command gets a clean environment (nothing of the host's, which may hold API keys) and
    its own process group, which a timeout kills.
    """

    def __init__(
        self, root: Path, name: str, isolation: str, limits: Limits = DEFAULT_LIMITS
    ) -> None:
        if isolation not in (NAMESPACES, DIRECTORIES):
            raise ValueError(f"isolation must be {NAMESPACES!r} or {DIRECTORIES!r}: {isolation!r}")
        if name in ("", ".", "..") or "/" in name or "\0" in name:
            raise ValueError(f"sandbox name must be a single path component, not {name!r}")
        self.path = Path(root).resolve() / name  # files on the host: directories mode only
        self.isolation = isolation
        self.limits = limits
        self._lock = threading.Lock()
        self._groups: dict[int, int | None] = {}  # directories mode: group id -> start time
        self._closed = False
        self._agents: dict[tuple[str, ...], AgentPool] = {}
        self._ns: Namespace | None = None
        if isolation == NAMESPACES:
            self._ns = Namespace(limits)
            self.home, self._tmp, self._user = _bwrap.HOME, "/tmp", _bwrap.USER
        else:
            (self.path / "home").mkdir(parents=True)
            (self.path / "tmp").mkdir()
            self.home, self._tmp = str(self.path / "home"), str(self.path / "tmp")
            self._user = _host_user()

    @property
    def init_pid(self) -> int | None:
        """Host pid of the sandbox's PID namespace init (namespaces mode, while it lives)."""
        return self._ns.init_pid if self._ns is not None else None

    def run(
        self,
        command: str,
        *,
        timeout_ms: int,
        cwd: str | None = None,
        envs: Mapping[str, str] | None = None,
    ) -> RunResult:
        """Run ``bash -c command``; cwd (relative to HOME) and envs are process parameters."""
        got = self.execute([tool("bash"), "-c", command], timeout_ms=timeout_ms, cwd=cwd, env=envs)
        return RunResult(_text(got.stdout), _text(got.stderr), got.exit_code, got.timed_out,
                         got.truncated)

    def execute(
        self,
        argv: Sequence[str],
        *,
        timeout_ms: int,
        stdin: bytes = b"",
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ExecResult:
        """Run ``argv`` in this session's sandbox; the internal API for every tool.

        ``argv[0]`` is looked up on the sandbox's PATH. ``stdin`` is fed to the program (then
        end of file); ``cwd`` is relative to HOME unless absolute; ``env`` is added to the
        session's clean environment (HOME, TMPDIR, PATH, LANG, USER, LOGNAME, SHELL). Output
        is kept up to the output limit per stream. On timeout the program's process group is
        killed and the exit code is 124. A missing ``cwd`` is exit code 1 with bash's message.
        Raises ValueError for bad arguments, OSError if the program cannot be started (say,
        not found), RuntimeError if the sandbox is closed or its helper has died.
        """
        if timeout_ms <= 0:
            raise ValueError(f"timeout_ms must be positive, not {timeout_ms}")
        if not argv:
            raise ValueError("argv must name a program")
        if self._closed:
            raise RuntimeError(f"sandbox {self.path.name} is closed")
        environment = self._environment(env)
        workdir = posixpath.join(self.home, cwd) if cwd else self.home
        spawned = self._spawn(list(argv), workdir, environment, bool(stdin))
        if spawned is None:
            message = f"bash: cd: {cwd}: No such file or directory\n".encode()
            return ExecResult(b"", message, 1, False, False)
        proc, feed, start = spawned
        timed_out = True
        try:
            out, err, timed_out = collect(proc, feed, stdin, timeout_ms / 1000,
                                          self.limits.output_bytes)
        finally:
            self._settle(proc, start, kill=timed_out)
        code = TIMEOUT_EXIT_CODE if timed_out else _exit_code(proc.returncode)
        return ExecResult(bytes(out.data), bytes(err.data), code, timed_out,
                          out.truncated or err.truncated)

    def call_agent(self, argv: Sequence[str], request: bytes, *, timeout_ms: int) -> bytes:
        """Send ``request`` to the long-lived program ``argv`` in this sandbox (started on
        first use, restarted if it has died); return its reply's payload (see `_agents`).

        Raises `_agents.AgentError` (AgentTimeout, ReplyTooLarge: longer than the output limit)
        if there is no reply, OSError or RuntimeError if the program cannot be started.
        """
        key = tuple(argv)
        with self._lock:
            if self._closed:
                raise RuntimeError(f"sandbox {self.path.name} is closed")
            pool = self._agents.get(key)
            if pool is None:
                pool = self._agents[key] = AgentPool(lambda: self._start(key))
        return pool.call(request, timeout_ms / 1000, self.limits.output_bytes)

    def _start(self, argv: tuple[str, ...]) -> Running:
        spawned = self._spawn(list(argv), self.home, self._environment(None), True)
        if spawned is None:
            raise RuntimeError(f"the session's home {self.home} is gone")
        proc, feed, start = spawned
        assert feed is not None
        return Running(proc, feed, lambda: self._settle(proc, start, kill=True))

    def close(self) -> None:
        """Kill running commands and background jobs, then remove the sandbox's files."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            groups, pools = dict(self._groups), list(self._agents.values())
        for pool in pools:  # released first: the spawn server waits for its commands' release
            pool.close()
        for pgid, start in groups.items():
            # A reaped leader's id may be reused only once its whole group is gone.
            if start is None or start_time(pgid) in (None, start):
                killpg(pgid)
        if self._ns is not None:
            self._ns.close()
        else:
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
        self, argv: list[str], workdir: str, env: dict[str, str], feeding: bool
    ) -> tuple[Child, int | None, int | None] | None:
        """The started program, the descriptor to feed its stdin, its start time (directories
        mode); None if ``workdir`` does not exist."""
        read, feed = os.pipe() if feeding else (os.open(os.devnull, os.O_RDONLY), None)
        proc: Child | None
        try:
            if self._ns is not None:
                proc = self._ns.spawn(argv, env, workdir, read)
            elif os.path.isdir(workdir):
                proc = PopenChild(argv, env, workdir, read)
            else:
                proc = None
        except BaseException:
            if feed is not None:
                os.close(feed)
            raise
        finally:
            os.close(read)
        if proc is None:
            if feed is not None:
                os.close(feed)
            return None
        start = None if isinstance(proc, NsChild) else start_time(proc.pid)
        with self._lock:
            if not isinstance(proc, NsChild):
                self._groups[proc.pid] = start
            closed = self._closed
        if closed:  # close() ran while we were spawning and could not see this program
            proc.kill()
        return proc, feed, start

    def _settle(self, proc: Child, start: int | None, *, kill: bool) -> None:
        if kill:
            proc.kill()  # the leader is not reaped yet, so the group id is still its own
        proc.release()
        if isinstance(proc, PopenChild) and not group_alive(proc.pid):
            with self._lock:
                if self._groups.get(proc.pid, start) == start:
                    self._groups.pop(proc.pid, None)


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


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
