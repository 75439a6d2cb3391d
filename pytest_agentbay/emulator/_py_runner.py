"""Runs INSIDE a session's sandbox (``python3 -E -s``): one `run_code` call's Python, stdlib only.

The code comes in ``AGENTBAY_CODE_<n>`` environment variables; its own output goes to the
sandbox's stdout and stderr as it happens. At the end the runner writes the mark the emulator
gave it (``AGENTBAY_MARK``) and one record, as a Python literal: the value of a final
expression (its ``repr`` as `text`, plus what its ``_repr_*_`` methods offer) and the error,
if any, with a traceback of the user's code only. Nothing heavy (``ast``, ``json``, ``typing``,
``traceback``) is imported unless needed, so a run costs little more than interpreter start-up.
"""

from __future__ import annotations

import _ast
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CELL = "<cell>"
ONLY_AST = 0x400  # ast.PyCF_ONLY_AST, without importing ast
# IPython's display methods -> the fields of a result item the SDK reads.
_REPRS = {
    "_repr_html_": "html",
    "_repr_markdown_": "markdown",
    "_repr_svg_": "svg",
    "_repr_png_": "png",
    "_repr_jpeg_": "jpeg",
    "_repr_latex_": "latex",
    "_repr_json_": "json",
}


def _take_input() -> tuple[str, str]:
    env = os.environ
    parts = int(env.pop("AGENTBAY_CODE_PARTS", "0"))
    code = "".join(env.pop(f"AGENTBAY_CODE_{i}") for i in range(parts))
    env.pop("AGENTBAY_RUNNER", None)
    return code, env.pop("AGENTBAY_MARK")


def _item(value: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"text": repr(value), "is_main_result": True}
    for method, field in _REPRS.items():
        shown = getattr(value, method, None)
        if callable(shown) and not isinstance(value, type):
            try:
                data = shown()
            except Exception:  # a broken display method must not hide the value
                continue
            if isinstance(data, bytes):
                import binascii

                data = binascii.b2a_base64(data, newline=False).decode("ascii")
            if data is not None:
                item[field] = data
    return item


def _error(exc: BaseException, code: str) -> dict[str, str]:
    import linecache
    import traceback

    linecache.cache[CELL] = (len(code), None, code.splitlines(True), CELL)
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != CELL:
        tb = tb.tb_next  # drop the runner's own frames
    if isinstance(exc, SyntaxError):
        tb = None
    lines = traceback.format_exception(type(exc), exc, tb)
    return {"name": type(exc).__name__, "value": str(exc), "traceback": "".join(lines)}


def run(code: str) -> dict[str, Any]:
    """Execute `code` as a notebook cell would: the final expression's value is the result."""
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    results: list[dict[str, Any]] = []
    try:
        tree = compile(code, CELL, "exec", ONLY_AST)
        last = tree.body[-1] if tree.body and isinstance(tree.body[-1], _ast.Expr) else None
        if last is not None:
            tree.body.pop()
        exec(compile(tree, CELL, "exec"), namespace)
        if last is not None:
            value = eval(compile(_ast.Expression(last.value), CELL, "eval"), namespace)
            if value is not None:
                results.append(_item(value))
    except SystemExit as exc:
        if exc.code not in (None, 0):
            return {"results": results, "error": _error(exc, code)}
    except BaseException as exc:  # the user's error is the call's result, whatever it is
        return {"results": results, "error": _error(exc, code)}
    return {"results": results, "error": None}


def _literal(value: Any) -> str:
    """`value` as a literal the emulator reads with `ast.literal_eval`; other objects as str."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    return repr(str(value))


def main() -> None:
    """Run the code, then write the mark and the record on the original stdout."""
    code, mark = _take_input()
    out = os.dup(1)  # user code may close or replace fd 1
    sys.argv = [""]
    record = run(code)
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    line = mark + _literal(record)
    os.write(out, line.encode("utf-8", errors="replace"))


if __name__ == "__main__":
    main()
