"""A compiled cache of cassettes: each file's interactions and match keys as JSON, used only
while the YAML file still has the content hash they were made from.

Parsing YAML costs more than replaying the test it holds; JSON loads about thirty times faster.
The YAML files stay the source of truth (what is committed and reviewed); the cache lives in
pytest's cache directory (never committed), one entry per cassette, rewritten when the file's
content (or a large body stored beside it) changes. A missing, stale or unreadable entry only
means the YAML is parsed again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

from . import bodies, files
from .errors import CassetteError
from .keys import Key
from .scrub import Interaction

FORMAT = 1  # bump when what is stored changes


def load(path: Path, label: str, cache: Path | None) -> tuple[list[Interaction], list[Key]]:
    """The interactions of the cassette at `path` and their match keys (CassetteError naming
    `label` if the file is unusable), from `cache` when it holds this content."""
    if cache is None:
        return _parse(path, label)
    try:
        content = path.read_bytes()
    except OSError as error:
        raise CassetteError(f"cannot read cassette {label}: {error.strerror}") from None
    digest = hashlib.blake2b(content + _bodies(path), digest_size=20).hexdigest()
    entry = cache / (hashlib.blake2b(str(path).encode(), digest_size=12).hexdigest() + ".json")
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        stored = json.loads(entry.read_bytes())
        if stored["format"] == FORMAT and stored["content"] == digest:
            keys = [tuple(tuple(pair) for pair in key) for key in stored["keys"]]
            return stored["interactions"], keys
    interactions, keys = _parse(path, label)
    _store(entry, {"format": FORMAT, "content": digest, "interactions": interactions, "keys": keys})
    return interactions, keys


def _bodies(path: Path) -> bytes:
    """What tells whether the large bodies stored beside the cassette changed (see bodies.py):
    their names, sizes and modification times; nothing when it has none."""
    try:
        with os.scandir(bodies.folder(path)) as found:
            stats = sorted((e.name, e.stat().st_size, e.stat().st_mtime_ns) for e in found)
    except OSError:
        return b""
    return repr(stats).encode()


def _parse(path: Path, label: str) -> tuple[list[Interaction], list[Key]]:
    interactions = files.read(path, label)
    return interactions, [files.key_of(i) for i in interactions]


def _store(entry: Path, document: dict[str, object]) -> None:
    """Write `entry` atomically; a cassette JSON cannot hold (binary bodies) is not cached."""
    try:
        data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    except (TypeError, ValueError):
        return
    with contextlib.suppress(OSError):
        entry.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, entry)
        except OSError:
            os.unlink(temporary)
