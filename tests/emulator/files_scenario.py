"""One scenario of `session.file_system` and `session.code` calls with what the SDK documents.

It runs unchanged on a session of the official SDK 0.22.3 (sync or async) and on one of our
client (sync or async): the same names, arguments and result fields, so the same assertions.
"""

from __future__ import annotations

import inspect
from typing import Any


async def resolve(value: Any) -> Any:
    """Await `value` if the session was async."""
    return await value if inspect.isawaitable(value) else value


async def home_of(session: Any) -> str:
    """The session's HOME (tests stay under it: /tmp is the host's in directories mode)."""
    result = await resolve(session.command.execute_command('printf %s "$HOME"'))
    assert result.success, result.error_message
    return str(result.output)


async def text_files(session: Any, home: str, big_lines: int = 12_000) -> None:
    """Write (overwrite, append, nested, large), read back, list, info, read several."""
    fs = session.file_system
    path = f"{home}/work/deep/nested/notes.txt"
    written = await resolve(fs.write_file(path, "héllo\n"))
    assert written.success and written.data is True and written.request_id
    assert (await resolve(fs.write_file(path, "wörld\n", mode="append"))).success
    read = await resolve(fs.read_file(path))
    assert read.success and read.content == "héllo\nwörld\n"
    shell = await resolve(session.command.execute_command(f"cat {path}"))
    assert shell.output == "héllo\nwörld\n", "file tools act on the session's own files"

    big = "".join(f"line {i} ünïcødé ✓\n" for i in range(big_lines))  # 25 B each: chunked
    assert (await resolve(fs.write_file(f"{home}/work/big.txt", big))).success
    assert (await resolve(fs.read_file(f"{home}/work/big.txt"))).content == big

    listing = await resolve(fs.list_directory(f"{home}/work"))
    assert listing.success
    # (The SDK's entries always say is_file False: its parser never sets isFile.)
    assert [(e.name, e.is_directory) for e in listing.entries] == [
        ("big.txt", False), ("deep", True)]
    info = await resolve(fs.get_file_info(path))
    assert info.success and info.is_file and not info.is_directory
    assert info.size == len("héllo\nwörld\n".encode())
    folder = await resolve(fs.get_file_info(f"{home}/work/deep"))
    assert folder.success and folder.is_directory and not folder.is_file

    both = await resolve(fs.read_multiple_files([path, f"{home}/work/missing.txt"]))
    assert both.success and both.contents[path] == "héllo\nwörld"
    assert "ENOENT" in both.contents[f"{home}/work/missing.txt"]
    empty = f"{home}/work/empty.txt"
    assert (await resolve(fs.write_file(empty, ""))).success
    assert (await resolve(fs.read_file(empty))).content == ""


async def binary_and_links(session: Any, home: str) -> None:
    """Binary reads, symlinks (followed, dangling, listed as files)."""
    fs = session.file_system
    made = await resolve(session.command.execute_command(
        f"cd {home} && printf '\\000\\377\\001PNG\\r\\n' > blob.bin && "
        "ln -s blob.bin link.bin && ln -s nowhere dangling && mkdir -p real && ln -s real dirlink"))
    assert made.success, made.error_message
    blob = await resolve(fs.read_file(f"{home}/blob.bin", format="bytes"))
    assert blob.success and blob.content == b"\x00\xff\x01PNG\r\n" and blob.size == 8
    via_link = await resolve(fs.read_file(f"{home}/link.bin", format="bytes"))
    assert via_link.content == b"\x00\xff\x01PNG\r\n"
    dangling = await resolve(fs.read_file(f"{home}/dangling"))
    assert not dangling.success and "ENOENT" in dangling.error_message
    entries = {e.name: e.is_directory for e in (await resolve(fs.list_directory(home))).entries}
    assert entries["dirlink"] is False and entries["real"] is True


async def changes(session: Any, home: str) -> None:
    """create_directory, move_file, edit_file (and dry run), search_files, delete_file."""
    fs = session.file_system
    assert (await resolve(fs.create_directory(f"{home}/proj/src/pkg"))).success
    for name in ("main.py", "pkg/util.py", "pkg/notes.md"):
        assert (await resolve(fs.write_file(f"{home}/proj/src/{name}", "DEBUG=false\n"))).success
    moved = await resolve(fs.move_file(f"{home}/proj/src/main.py", f"{home}/proj/app.py"))
    assert moved.success and moved.data is True
    assert not (await resolve(fs.get_file_info(f"{home}/proj/src/main.py"))).success
    onto = await resolve(fs.move_file(f"{home}/proj/app.py", f"{home}/proj/src/pkg/util.py"))
    assert not onto.success and "EEXIST" in onto.error_message

    edit = [{"oldText": "false", "newText": "true"}]
    preview = await resolve(fs.edit_file(f"{home}/proj/app.py", edit, dry_run=True))
    assert preview.success
    assert (await resolve(fs.read_file(f"{home}/proj/app.py"))).content == "DEBUG=false\n"
    assert (await resolve(fs.edit_file(f"{home}/proj/app.py", edit))).success
    assert (await resolve(fs.read_file(f"{home}/proj/app.py"))).content == "DEBUG=true\n"
    missing = await resolve(fs.edit_file(f"{home}/proj/app.py", [{"oldText": "zzz",
                                                                   "newText": "y"}]))
    assert not missing.success and "Could not find exact match" in missing.error_message

    found = await resolve(fs.search_files(f"{home}/proj", "*.py"))
    assert found.success and found.matches == [f"{home}/proj/app.py",
                                               f"{home}/proj/src/pkg/util.py"]
    kept = await resolve(fs.search_files(f"{home}/proj", "*.py", exclude_patterns=["pkg"]))
    assert kept.matches == [f"{home}/proj/app.py"]
    none = await resolve(fs.search_files(f"{home}/proj", "*.rs"))
    assert none.success and none.matches == []

    assert (await resolve(fs.delete_file(f"{home}/proj/app.py"))).success
    again = await resolve(fs.delete_file(f"{home}/proj/app.py"))
    assert not again.success and "ENOENT" in again.error_message


async def error_paths(session: Any, home: str) -> None:
    """Missing file, a directory where a file was expected, permission denied, bad mode."""
    fs = session.file_system
    missing = await resolve(fs.read_file(f"{home}/nope.txt"))
    assert not missing.success and "ENOENT" in missing.error_message and missing.content == ""
    folder = await resolve(fs.read_file(home))
    assert not folder.success and "is a directory" in folder.error_message
    onto_dir = await resolve(fs.write_file(home, "x"))
    assert not onto_dir.success and "EISDIR" in onto_dir.error_message
    under_file = await resolve(fs.list_directory(f"{home}/nope.txt/x"))
    assert not under_file.success and "ENOENT" in under_file.error_message
    denied = await resolve(fs.write_file("/proc/sys/kernel/ostype", "x"))
    assert not denied.success and "EACCES: permission denied" in denied.error_message
    bad_mode = await resolve(fs.write_file(f"{home}/x.txt", "x", mode="truncate"))
    assert not bad_mode.success and "Invalid write mode" in bad_mode.error_message


async def code_runs(session: Any) -> None:
    """run_code in Python and JavaScript: logs, result, error, execution count, timeout."""
    code = session.code
    first = await resolve(code.run_code("import sys\nprint('out')\n"
                                        "print('err', file=sys.stderr)\n6 * 7", "python"))
    assert first.success and first.result == "42" and first.error is None
    assert first.logs.stdout == ["out\n"] and first.logs.stderr == ["err\n"]
    assert first.results[0].is_main_result and first.execution_count is not None
    failed = await resolve(code.run_code("def f():\n    raise ValueError('bad input')\nf()",
                                         "python"))
    assert not failed.success and failed.error.name == "ValueError"
    assert failed.error.value == "bad input" and "line 2, in f" in failed.error.traceback
    assert failed.execution_count == first.execution_count + 1
    js = await resolve(code.run_code("console.log('from node'); [1, 2].map(x => x * 2)", "js"))
    assert js.success and js.logs.stdout == ["from node\n"] and js.result == "[ 2, 4 ]"
    thrown = await resolve(code.run_code("throw new TypeError('nope')", "javascript"))
    assert not thrown.success and thrown.error.name == "TypeError"
    slow = await resolve(code.run_code("import time\nprint('started', flush=True)\n"
                                       "time.sleep(30)", "python", timeout_s=1))
    assert not slow.success and slow.error.name == "TimeoutError"
    assert slow.logs.stdout == ["started\n"]
    unknown = await resolve(code.run_code("1", "cobol"))
    assert not unknown.success and "Unsupported language" in unknown.error_message


async def everything(session: Any, big_lines: int = 12_000) -> None:
    """The whole scenario on one `code_latest` session."""
    home = await home_of(session)
    await text_files(session, home, big_lines)
    await binary_and_links(session, home)
    await changes(session, home)
    await error_paths(session, home)
    await code_runs(session)
