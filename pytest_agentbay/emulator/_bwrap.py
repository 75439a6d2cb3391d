"""A session's sandbox as bubblewrap arguments: what it sees, who it runs as, what it may do.

Inside: an unprivileged user (uid 1000, no capabilities, ``no_new_privs``, the seccomp filter of
`_seccomp`) in fresh user, PID, mount, IPC and UTS namespaces, unable to make more user
namespaces. It sees the host's system directories read-only (``/usr``, ``/etc``, ``/opt``)
with whatever in ``/etc`` is not world-readable masked (``/etc/shadow`` and the like), accounts
of its own in ``/etc/passwd``, a fresh ``/proc`` and a minimal ``/dev``, and a private ``/tmp``
and home, each a tmpfs of the session's disk limit. Nothing else of the host: no ``/root``,
no ``/home``, no checkout, no ``/run``. The network is the host's.

When the emulator runs as root, bubblewrap itself runs as ``nobody``: root inside a user
namespace created by root would still be root for the host's files.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import importlib.util
import inspect
import marshal
import os
import shutil
import stat
import subprocess
import sys

from . import _seccomp, _spawner
from .limits import MIB, Limits

USER, UID, GID = "user", 1000, 1000
HOME = f"/home/{USER}"
HOST_NOBODY = 65534
_SYSTEM_DIRS = ("/usr", "/etc", "/opt")
_TOP_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")  # usually into /usr
_FIRST_USER_ID = 1000
_LOADER = "import binascii, marshal, sys; exec(marshal.loads(binascii.a2b_base64(sys.argv.pop(1))))"


def problem() -> str | None:
    """Why sessions cannot be isolated with bubblewrap here, or None if they can be tried."""
    if not sys.platform.startswith("linux"):
        return f"sessions need Linux namespaces; this is {sys.platform}"
    if _bwrap() is None:
        return ("bubblewrap (bwrap) is not installed: install the 'bubblewrap' package "
                "(apt-get install bubblewrap, dnf install bubblewrap, pacman -S bubblewrap)")
    return None


def host_ids() -> tuple[int, int] | None:
    """The host uid and gid bubblewrap runs as: ``nobody`` when we are root, else unchanged."""
    return (HOST_NOBODY, HOST_NOBODY) if os.geteuid() == 0 else None


def argv(limits: Limits, fds: dict[str, int]) -> list[str]:
    """bwrap's command line up to ``--``; ``fds``: passwd, group, info, seccomp (optional)."""
    bwrap = _bwrap()
    assert bwrap is not None  # problem() said so
    disk = str(limits.disk_mib * MIB)
    args = [
        bwrap, "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
        "--unshare-cgroup-try", "--disable-userns", "--uid", str(UID), "--gid", str(GID),
        "--hostname", "agentbay", "--new-session", "--cap-drop", "ALL", "--as-pid-1",
        *_system_view(), *_interpreter()[1],
        "--ro-bind-data", str(fds["passwd"]), "/etc/passwd",
        "--ro-bind-data", str(fds["group"]), "/etc/group",
        "--proc", "/proc", "--dev", "/dev",
        "--perms", "1777", "--size", disk, "--tmpfs", "/tmp",
        "--perms", "0700", "--size", disk, "--tmpfs", HOME,
        "--dir", "/var", "--symlink", "../tmp", "/var/tmp", "--dir", "/run",
        "--chdir", "/", "--info-fd", str(fds["info"]),
    ]  # fmt: skip
    if "seccomp" in fds:
        args += ["--add-seccomp-fd", str(fds["seccomp"])]
    return [*args, "--"]


@functools.cache
def spawn_server() -> tuple[str, ...]:
    """How to run the spawn server (`_spawner`) inside."""
    return python_program(inspect.getsource(_spawner), _spawner.__file__ or "_spawner.py")


@functools.cache
def python_program(source: str, filename: str) -> tuple[str, ...]:
    """How to run ``source`` with a Python the sandbox sees: isolated, without site (faster).

    When that Python reads our bytecode, it gets the program compiled: compiling it in every
    sandbox would leave each half a MiB more memory.
    """
    python = _interpreter()[0]
    if _magic(python) != importlib.util.MAGIC_NUMBER:
        return (python, "-I", "-S", "-c", source)
    code = marshal.dumps(compile(source, filename, "exec"))
    return (python, "-I", "-S", "-c", _LOADER, base64.b64encode(code).decode())


@functools.cache
def _magic(python: str) -> bytes | None:
    """The bytecode magic number of ``python``, or None if it cannot tell."""
    probe = "import importlib.util as u; print(u.MAGIC_NUMBER.hex())"
    try:
        done = subprocess.run([python, "-I", "-S", "-c", probe], capture_output=True,
                              text=True, timeout=30, check=True)
        return bytes.fromhex(done.stdout.strip())
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def seccomp() -> bytes | None:
    """The seccomp program to load, if this architecture has one."""
    return _seccomp.program()


@functools.cache
def accounts() -> tuple[bytes, bytes]:
    """/etc/passwd and /etc/group inside: the host's system accounts and the session user."""
    passwd = _system_lines("/etc/passwd") + f"{USER}:x:{UID}:{GID}::{HOME}:/bin/bash\n"
    group = _system_lines("/etc/group") + f"{USER}:x:{GID}:\n"
    return passwd.encode(), group.encode()


def _system_lines(path: str) -> str:
    """Accounts below the first user id (and nobody): no one's name or home leaks in."""
    try:
        with open(path, encoding="utf-8", errors="replace") as lines:
            kept = []
            for line in lines:
                fields = line.split(":")
                if len(fields) > 2 and fields[2].isdigit() and fields[0] != USER:
                    number = int(fields[2])
                    if number < _FIRST_USER_ID or number == HOST_NOBODY:
                        kept.append(line if line.endswith("\n") else line + "\n")
    except OSError:
        return ""
    return "".join(kept)


@functools.cache
def _system_view() -> tuple[str, ...]:
    args: list[str] = []
    for path in _SYSTEM_DIRS:
        if os.path.isdir(path) and not os.path.islink(path):
            args += ["--ro-bind", path, path]
    for path in _TOP_LINKS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    files, dirs = _private_in_etc()
    for path in files:
        args += ["--ro-bind", os.devnull, path]  # a device on a nodev mount: cannot be opened
    for path in dirs:
        args += ["--tmpfs", path, "--remount-ro", path]
    return tuple(args)


def _private_in_etc() -> tuple[list[str], list[str]]:
    """Files and directories in /etc that not everyone may read: masked inside."""
    files: list[str] = []
    dirs: list[str] = []
    for top, subdirs, names in os.walk("/etc"):
        for name in names:
            path = os.path.join(top, name)
            with contextlib.suppress(OSError):  # vanished meanwhile
                mode = os.lstat(path).st_mode
                if not stat.S_ISLNK(mode) and not mode & stat.S_IROTH:
                    files.append(path)
        for name in list(subdirs):
            path = os.path.join(top, name)
            with contextlib.suppress(OSError):  # vanished meanwhile
                mode = os.lstat(path).st_mode
                if stat.S_ISDIR(mode) and (mode & 0o005) != 0o005:
                    dirs.append(path)
                    subdirs.remove(name)
    return files, dirs


@functools.cache
def _interpreter() -> tuple[str, tuple[str, ...]]:
    """A Python the sandbox can see: ours if it lives in a system directory, else the system's;
    failing both, ours with its installation bound read-only at the same path."""
    ours = os.path.realpath(sys.executable or "python3")
    for candidate in (ours, "/usr/bin/python3", "/usr/local/bin/python3"):
        real = os.path.realpath(candidate)
        if _visible_inside(real) and os.access(real, os.X_OK):
            return real, ()
    prefix = os.path.realpath(sys.base_prefix)
    return ours, ("--ro-bind", prefix, prefix)


def _visible_inside(path: str) -> bool:
    tops = [p for p in (*_SYSTEM_DIRS, *_TOP_LINKS) if os.path.isdir(p) and not os.path.islink(p)]
    return any(path.startswith(top + "/") for top in tops) and not path.startswith("/etc/")


@functools.cache
def _bwrap() -> str | None:
    return shutil.which("bwrap") or shutil.which("bwrap", path="/usr/bin:/bin")
