"""Large bodies of a cassette (file contents, code output), kept beside it gzip-compressed.

A body over `LIMIT` characters is written to `<cassette stem>.bodies/<sha256 prefix>.gz` and
the YAML keeps a reference (`body: {file: ..., size: ...}`), so a cassette stays small and
readable however big the files a test moved. Names come from the content: re-recording the
same traffic rewrites nothing, and files no longer referenced are removed.
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import hashlib
import os
from pathlib import Path
from typing import Any

from .errors import CassetteError
from .scrub import Interaction

LIMIT = 16 * 1024


def folder(cassette: Path) -> Path:
    """Where the bodies of `cassette` live."""
    return cassette.with_name(cassette.stem + ".bodies")


def _store(cassette: Path, text: str, used: set[str]) -> dict[str, Any]:
    data = text.encode("utf-8")
    name = hashlib.sha256(data).hexdigest()[:24] + ".gz"
    target = folder(cassette) / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{name}.{os.getpid()}.tmp")
        partial.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
        os.replace(partial, target)
    used.add(name)
    return {"file": f"{folder(cassette).name}/{name}", "size": len(data)}


def externalize(interactions: list[Interaction], cassette: Path) -> list[Interaction]:
    """Copies of `interactions` with large bodies moved beside `cassette`; stale files removed."""
    used: set[str] = set()
    written = []
    for interaction in interactions:
        body = interaction["request"].get("body")
        reply = interaction["response"]["body"].get("string")
        big_body, big_reply = (isinstance(t, str) and len(t) > LIMIT for t in (body, reply))
        if big_body or big_reply:
            interaction = copy.deepcopy(interaction)
            if big_body:
                interaction["request"]["body"] = _store(cassette, body, used)
            if big_reply:
                interaction["response"]["body"] = _store(cassette, reply, used)
        written.append(interaction)
    _prune(cassette, used)
    return written


def _prune(cassette: Path, used: set[str]) -> None:
    where = folder(cassette)
    if not where.is_dir():
        return
    for stale in where.iterdir():
        if stale.name not in used:
            with contextlib.suppress(OSError):
                stale.unlink()
    with contextlib.suppress(OSError):
        where.rmdir()  # only when empty


def _load(cassette: Path, reference: Any, label: str) -> str:
    if not isinstance(reference, dict) or not isinstance(reference.get("file"), str):
        raise CassetteError(f"cassette {label}: a body reference needs a `file` name")
    name = Path(reference["file"]).name  # only files of this cassette's own folder
    try:
        return gzip.decompress((folder(cassette) / name).read_bytes()).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise CassetteError(
            f"cassette {label}: cannot read its stored body {reference['file']} ({error}); "
            "restore the file or re-record with --agentbay-record-mode=rewrite") from None


def internalize(interactions: list[Any], cassette: Path, label: str) -> list[Any]:
    """`interactions` with every body reference replaced by the stored text (in place)."""
    for interaction in interactions:
        if not isinstance(interaction, dict):
            continue
        request, response = interaction.get("request"), interaction.get("response")
        if isinstance(request, dict) and isinstance(request.get("body"), dict):
            request["body"] = _load(cassette, request["body"], label)
        body = response.get("body") if isinstance(response, dict) else None
        if isinstance(body, dict) and "file" in body and "string" not in body:
            response["body"] = {"string": _load(cassette, body, label)}  # type: ignore[index]
    return interactions
