"""The file tools and run_code at the wire: reply shapes, limits and faults, on real sandboxes."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from pytest_agentbay.emulator import code as code_tool

from .conftest import Api


@pytest.fixture
def box(real_api: Api) -> tuple[Api, str, str]:
    """A code_latest session: the api, its id and its HOME."""
    sid = real_api.create(ImageId="code_latest")
    home, failed = real_api.tool(sid, "shell", {"command": 'printf %s "$HOME"'})
    assert not failed
    return real_api, sid, home["stdout"] if isinstance(home, dict) else home


def _call(box: tuple[Api, str, str], name: str, **args: Any) -> tuple[Any, bool]:
    api, sid, _ = box
    return api.tool(sid, name, args)


def test_text_chunks_by_byte_range_join_into_whole_characters(box: tuple[Api, str, str]) -> None:
    home = box[2]
    text = "aé€😀" * 2  # 1-, 2-, 3- and 4-byte characters
    assert _call(box, "write_file", path=f"{home}/u.txt", content=text, mode="overwrite") == (
        f"Successfully wrote to {home}/u.txt", False)
    size = len(text.encode())
    for chunk in (1, 3, 7):
        pieces = [_call(box, "read_file", path=f"{home}/u.txt", offset=o, length=chunk)
                  for o in range(0, size, chunk)]
        assert not any(failed for _, failed in pieces)
        assert "".join(str(p) for p, _ in pieces) == text, chunk


def test_binary_ranges_and_binary_read_as_text(box: tuple[Api, str, str]) -> None:
    api, sid, home = box
    api.tool(sid, "shell", {"command": f"head -c 256 /dev/zero | tr '\\0' '\\377' > {home}/b"})
    raw, failed = _call(box, "read_file", path=f"{home}/b", offset=250, length=10,
                        format="binary")
    assert not failed and base64.b64decode(raw) == b"\xff" * 6
    as_text, failed = _call(box, "read_file", path=f"{home}/b")
    assert not failed and as_text == "\ufffd" * 256


def test_error_shapes(box: tuple[Api, str, str]) -> None:
    api, sid, home = box
    api.tool(sid, "shell", {"command": f"cd {home} && touch f && ln -s loop loop && mkdir d"})
    cases = {
        ("read_file", f"{home}/none"): f"Error: ENOENT: no such file or directory, open "
                                       f"'{home}/none'",
        ("read_file", f"{home}/d"): f"Error: EISDIR: illegal operation on a directory, read "
                                    f"'{home}/d'",
        ("list_directory", f"{home}/f"): f"Error: ENOTDIR: not a directory, scandir '{home}/f'",
        ("read_file", f"{home}/loop"): f"Error: ELOOP: too many symbolic links encountered, "
                                       f"open '{home}/loop'",
        ("create_directory", f"{home}/f"): f"Error: EEXIST: file already exists, mkdir "
                                           f"'{home}/f'",
        ("delete_file", f"{home}/d"): f"Error: EISDIR: illegal operation on a directory, unlink "
                                      f"'{home}/d'",
        ("get_file_info", f"{home}/f/x"): f"Error: ENOTDIR: not a directory, stat '{home}/f/x'",
    }
    for (tool, path), message in cases.items():
        assert _call(box, tool, path=path) == (message, True), tool


def test_invalid_arguments_are_tool_errors(box: tuple[Api, str, str]) -> None:
    assert _call(box, "read_file", path="") == (
        "Invalid arguments for read_file: 'path' must be a non-empty string", True)
    assert _call(box, "read_file", path="x", offset="3") == (
        "Invalid arguments for read_file: 'offset' must be of type int", True)
    assert _call(box, "write_file", path="x")[1] is True
    assert _call(box, "edit_file", path="x", edits=[{"oldText": 1}])[1] is True
    text, failed = _call(box, "write_file", path="x", content="y", mode="truncate")
    assert failed and "Invalid mode" in text


def test_one_reply_carries_at_most_one_mebibyte(box: tuple[Api, str, str]) -> None:
    api, sid, home = box
    api.tool(sid, "shell", {"command": f"head -c 1100000 /dev/zero | tr '\\0' a > {home}/big"})
    text, failed = _call(box, "read_file", path=f"{home}/big")
    assert failed and "read the file in parts with offset and length" in text
    part, failed = _call(box, "read_file", path=f"{home}/big", offset=1_000_000, length=100_000)
    assert not failed and part == "a" * 100_000
    endless, failed = _call(box, "read_file", path="/dev/zero", format="binary")
    assert failed and "in parts" in endless, "an endless file is not read forever"


def test_listing_search_info_and_diff_shapes(box: tuple[Api, str, str]) -> None:
    api, sid, home = box
    api.tool(sid, "shell", {"command": f"cd {home} && mkdir -p s/Deep && echo hi > s/Deep/Report.MD"
                                       " && echo a > s/report_old.txt"})
    assert _call(box, "list_directory", path=f"{home}/s") == (
        "[DIR] Deep\n[FILE] report_old.txt", False)
    assert _call(box, "search_files", path=f"{home}/s", pattern="report") == (
        f"{home}/s/Deep/Report.MD\n{home}/s/report_old.txt", False)
    assert _call(box, "search_files", path=f"{home}/s", pattern="report",
                 excludePatterns="*.txt,x") == (f"{home}/s/Deep/Report.MD", False)
    info, _ = _call(box, "get_file_info", path=f"{home}/s/Deep/Report.MD")
    fields = dict(line.split(": ", 1) for line in str(info).split("\n"))
    assert fields["size"] == "3" and fields["isFile"] == "true" and fields["isDirectory"] == "false"
    assert set(fields) == {"size", "created", "modified", "accessed", "isDirectory", "isFile",
                           "permissions"} and fields["modified"].endswith("Z")
    diff, failed = _call(box, "edit_file", path=f"{home}/s/report_old.txt",
                         edits=[{"oldText": "a", "newText": "b"}], dryRun=False)
    assert not failed and diff.startswith("```diff\n") and "-a\n+b\n" in diff


def test_run_code_without_node_says_so(box: tuple[Api, str, str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    runner = code_tool.RUNNERS["javascript"]
    monkeypatch.setitem(code_tool.RUNNERS, "javascript",
                        (runner[0].replace("node", "node-not-installed", 1), *runner[1:]))
    text, failed = _call(box, "run_code", code="1", language="javascript", timeout_s=5)
    assert failed and text == ("run_code: javascript needs Node.js ('node'), which is not "
                               "installed in the emulator's sandbox.")


def test_run_code_languages_and_arguments(box: tuple[Api, str, str]) -> None:
    text, failed = _call(box, "run_code", code="1", language="r")
    assert failed and "Language 'r' is not available in the emulator" in text
    assert _call(box, "run_code", code=3, language="python")[1] is True
    assert _call(box, "run_code", code="1", language="python", timeout_s=0)[1] is True


def test_run_code_is_a_fresh_process_in_the_sessions_files(box: tuple[Api, str, str]) -> None:
    home = box[2]
    first, _ = _call(box, "run_code", code="import os\nx = 1\nos.getcwd()", language="python")
    assert first["results"][0]["text"] == repr(home) and first["execution_count"] == 1
    second, _ = _call(box, "run_code", code="x", language="python")
    assert second["isError"] and second["error"]["name"] == "NameError"
    assert second["execution_count"] == 2
    assert "AGENTBAY" not in str(_call(box, "run_code", code="import os\n"
                                       "sorted(os.environ)", language="python")[0])


def test_run_code_rich_results_and_exit(box: tuple[Api, str, str]) -> None:
    html = ("class T:\n    def _repr_html_(self):\n        return '<b>hi</b>'\n"
            "    def __repr__(self):\n        return 'T()'\nT()")
    shown, _ = _call(box, "run_code", code=html, language="python")
    assert shown["results"] == [{"text": "T()", "html": "<b>hi</b>", "is_main_result": True}]
    gone, _ = _call(box, "run_code", code="import os\nos._exit(3)", language="python")
    assert gone["error"]["name"] == "ProcessExit" and "code 3" in gone["error"]["value"]
    done, _ = _call(box, "run_code", code="import sys\nsys.exit(0)", language="python")
    assert not done["isError"]
    awaited, _ = _call(box, "run_code", code="Promise.resolve(5)", language="javascript")
    assert awaited["results"][0]["text"] == "5" and not awaited["isError"]
