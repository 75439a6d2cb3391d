"""Runs INSIDE a session's sandbox (``python3 -I -S``): the file-system tools, stdlib only.

One agent serves a session's file calls for as long as it lives (see `_agents` for the framing
on stdin and stdout): a request's body is ``(tool, args)`` marshalled (the emulator sent it;
any Python 3 reads version 4); the reply's payload is ``o`` (ok) or ``e`` (error), then the
reply text in UTF-8. It imports no ``json`` (nor ``re``): start-up is a session's first file
call's cost. Working in the sandbox, not on the host, means a tool call sees exactly the
files, mounts and permissions the session's own commands see, symlinks included.
Error texts follow the service's file tools (a Node.js server): ``Error: ENOENT: no such file or
directory, open '/x'``.
"""

from __future__ import annotations

import binascii
import errno
import marshal
import os
import stat
import time

TYPE_CHECKING = False  # `typing` costs more start-up time (it imports `re`) than the work
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

# libuv's wording for the errors a file tool meets, as the service's Node.js server reports them.
_UV_TEXT = {
    errno.ENOENT: "no such file or directory",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EISDIR: "illegal operation on a directory",
    errno.ENOTDIR: "not a directory",
    errno.EEXIST: "file already exists",
    errno.ENOTEMPTY: "directory not empty",
    errno.ELOOP: "too many symbolic links encountered",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on device",
    errno.EXDEV: "cross-device link not permitted",
    errno.ENAMETOOLONG: "name too long",
    errno.EINVAL: "invalid argument",
}


class ToolFailure(Exception):
    """A failure reported to the caller as the tool's error text."""


def _os_error(exc: OSError, syscall: str) -> ToolFailure:
    code = errno.errorcode.get(exc.errno or 0, "EIO")
    text = _UV_TEXT.get(exc.errno or 0, (exc.strerror or "i/o error").lower())
    where = f" '{exc.filename}'" if exc.filename is not None else ""
    if exc.filename2 is not None:
        where += f" -> '{exc.filename2}'"
    return ToolFailure(f"{code}: {text}, {syscall}{where}")


def _path(value: Any) -> str:
    """An absolute path; relative ones are taken from HOME, like the session's commands."""
    return os.path.join(os.environ.get("HOME", "/"), os.path.expanduser(str(value)))


def _char_bounds(data: bytes, start: int, end: int) -> tuple[int, int]:
    """The characters whose first byte lies in ``[start, end)``: both ends moved forward to the
    next character start. Consecutive ranges then decode to consecutive text, so a file read
    in fixed-size chunks joins up without broken characters.
    """
    bounds = []
    for edge in (start, end):
        for _ in range(3):  # a UTF-8 character has at most 3 continuation bytes
            if edge < len(data) and 0x80 <= data[edge] < 0xC0:
                edge += 1
        bounds.append(edge)
    return bounds[0], max(bounds)


# More than one reply can carry (the emulator answers 1 MiB at most): it also bounds reading
# endless files such as /dev/zero, or a FIFO's stream.
READ_CAP = 1024 * 1024 + 1


def read_file(args: dict[str, Any]) -> str:
    path = _path(args["path"])
    offset, length = int(args.get("offset") or 0), int(args.get("length") or 0)
    length = min(length, READ_CAP) or READ_CAP
    if offset < 0 or length < 0:
        raise ToolFailure("offset and length must not be negative")
    if os.path.isdir(path):
        raise _os_error(IsADirectoryError(errno.EISDIR, "", path), "read")
    with open(path, "rb") as handle:
        if args.get("format") == "binary":
            handle.seek(offset)
            data = handle.read(length)
            return binascii.b2a_base64(data, newline=False).decode("ascii")
        # Text: read 3 bytes either side so the range can be widened to whole characters.
        lead = min(offset, 3)
        handle.seek(offset - lead)
        data = handle.read(length + lead + 3)
    start, end = _char_bounds(data, lead, min(lead + length, len(data)))
    return data[start:end].decode("utf-8", errors="replace")


def write_file(args: dict[str, Any]) -> str:
    path, mode = _path(args["path"]), args.get("mode", "overwrite")
    if mode not in ("overwrite", "append"):
        raise ToolFailure(f"Invalid mode: {mode!r}; expected 'overwrite' or 'append'")
    content = str(args["content"]).encode("utf-8")
    os.makedirs(os.path.dirname(path) or "/", exist_ok=True)
    with open(path, "ab" if mode == "append" else "wb") as handle:
        handle.write(content)
    return f"Successfully wrote to {args['path']}"


def read_multiple_files(args: dict[str, Any]) -> str:
    parts = []
    for raw in args["paths"]:
        try:
            parts.append(f"{raw}:\n{read_file({'path': raw})}\n")
        except (OSError, ToolFailure) as exc:
            failure = _os_error(exc, "open") if isinstance(exc, OSError) else exc
            parts.append(f"{raw}: Error - {failure}")
    return "\n---\n".join(parts)


def list_directory(args: dict[str, Any]) -> str:
    with os.scandir(_path(args["path"])) as entries:
        names = sorted((e.name, e.is_dir(follow_symlinks=False)) for e in entries)
    return "\n".join(f"[DIR] {name}" if is_dir else f"[FILE] {name}" for name, is_dir in names)


def create_directory(args: dict[str, Any]) -> str:
    path = _path(args["path"])
    if os.path.lexists(path) and not os.path.isdir(path):
        raise _os_error(FileExistsError(errno.EEXIST, "", path), "mkdir")
    os.makedirs(path, exist_ok=True)
    return f"Successfully created directory {args['path']}"


def move_file(args: dict[str, Any]) -> str:
    source, destination = _path(args["source"]), _path(args["destination"])
    if os.path.lexists(destination):  # the service's tool refuses to replace anything
        raise _os_error(FileExistsError(errno.EEXIST, "", source, None, destination), "rename")
    os.rename(source, destination)
    return f"Successfully moved {args['source']} to {args['destination']}"


def delete_file(args: dict[str, Any]) -> str:
    os.unlink(_path(args["path"]))
    return f"Successfully deleted file {args['path']}"


def edit_file(args: dict[str, Any]) -> str:
    import difflib

    path = _path(args["path"])
    with open(path, encoding="utf-8", newline="") as handle:
        original = handle.read()
    text = original.replace("\r\n", "\n")
    for edit in args["edits"]:
        old, new = str(edit["oldText"]).replace("\r\n", "\n"), str(edit["newText"])
        if old not in text:
            raise ToolFailure(f"Could not find exact match for edit:\n{edit['oldText']}")
        text = text.replace(old, new.replace("\r\n", "\n"), 1)
    diff = "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
        for line in difflib.unified_diff(original.replace("\r\n", "\n").splitlines(True),
                                         text.splitlines(True), str(args["path"]),
                                         str(args["path"]), "original", "modified"))
    if not args.get("dryRun"):
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    fence = "`" * 3
    while fence in diff:
        fence += "`"
    return f"{fence}diff\n{diff}{fence}\n\n"


def _when(seconds: float) -> str:
    millis = int(seconds * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def get_file_info(args: dict[str, Any]) -> str:
    info = os.stat(_path(args["path"]))
    fields = {
        "size": info.st_size,
        "created": _when(info.st_ctime),
        "modified": _when(info.st_mtime),
        "accessed": _when(info.st_atime),
        "isDirectory": str(stat.S_ISDIR(info.st_mode)).lower(),
        "isFile": str(stat.S_ISREG(info.st_mode)).lower(),
        "permissions": oct(info.st_mode)[-3:],
    }
    return "\n".join(f"{key}: {value}" for key, value in fields.items())


def _matches(name: str, pattern: str) -> bool:
    import fnmatch

    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(name, pattern)
    return pattern.lower() in name.lower()  # a plain word matches names containing it


def search_files(args: dict[str, Any]) -> str:
    root, pattern = _path(args["path"]), str(args["pattern"])
    excludes = args.get("excludePatterns") or []
    if isinstance(excludes, str):
        excludes = [p for p in excludes.split(",") if p.strip()]
    if not os.path.isdir(root):
        os.scandir(root).close()  # raises the error the service reports (ENOENT, ENOTDIR)
    found = []
    for where, dirs, files in os.walk(root):  # symlinked directories are not followed
        rel = os.path.relpath(where, root)
        dirs[:] = sorted(d for d in dirs if not _excluded(os.path.join(rel, d), d, excludes))
        for name in sorted(dirs + files):
            full = os.path.join(where, name)
            if _matches(name, pattern) and not _excluded(os.path.join(rel, name), name, excludes):
                found.append(full)
    return "\n".join(sorted(set(found))) or "No matches found"


def _excluded(rel: str, name: str, excludes: list[str]) -> bool:
    import fnmatch

    rel = os.path.normpath(rel)
    return any(fnmatch.fnmatchcase(rel, p.strip()) or fnmatch.fnmatchcase(name, p.strip())
               for p in excludes)


TOOLS: dict[str, tuple[Callable[[dict[str, Any]], str], str]] = {
    "read_file": (read_file, "open"),
    "write_file": (write_file, "open"),
    "read_multiple_files": (read_multiple_files, "open"),
    "list_directory": (list_directory, "scandir"),
    "create_directory": (create_directory, "mkdir"),
    "move_file": (move_file, "rename"),
    "delete_file": (delete_file, "unlink"),
    "edit_file": (edit_file, "open"),
    "get_file_info": (get_file_info, "stat"),
    "search_files": (search_files, "scandir"),
}


def run(request: dict[str, Any]) -> tuple[bytes, str]:
    """The outcome (``o`` or ``e``) and the text of one tool call."""
    tool, syscall = TOOLS[request["tool"]]
    try:
        return b"o", tool(request["args"])
    except OSError as exc:
        return b"e", f"Error: {_os_error(exc, syscall)}"
    except ToolFailure as exc:
        return b"e", f"Error: {exc}"
    except (KeyError, TypeError, ValueError) as exc:
        return b"e", f"Error: invalid arguments: {exc!r}"


def _exactly(size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = os.read(0, size - len(data))
        if not chunk:  # the emulator is done with us
            raise SystemExit(0)
        data += chunk
    return bytes(data)


# Far above any request (the emulator takes form bodies up to 1 MiB): a longer length is
# garbage that the session wrote into our stdin; waiting for it would stall the next calls.
MAX_REQUEST = 16 << 20


def main() -> None:
    """Answer requests on stdin until it ends."""
    while True:
        size = int.from_bytes(_exactly(4), "big")
        if size > MAX_REQUEST:
            raise SystemExit(2)
        body = _exactly(size)
        outcome, text = run(marshal.loads(body[8:]))
        # Names that are not UTF-8 come back with replacement characters rather than failing.
        payload = outcome + text.encode("utf-8", errors="replace")
        reply = memoryview(len(payload).to_bytes(4, "big") + body[:8] + payload)
        while reply:
            reply = reply[os.write(1, reply):]


if __name__ == "__main__":
    main()
