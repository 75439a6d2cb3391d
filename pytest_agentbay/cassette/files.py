"""Cassette files: YAML in vcrpy's format, read with clear errors, scanned for secrets and
written atomically (a temporary file, then a rename) under a lock shared by xdist workers."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]
from filelock import FileLock

from ..redact import find_secret
from .bodies import externalize, internalize
from .errors import CassetteError, SecretInCassette
from .keys import Key, match_key, request_params
from .scrub import Interaction

Stamp = tuple[int, int, int] | None

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def stamp(path: Path) -> Stamp:
    """What tells whether a file changed: inode, size and modification time (None: absent)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def key_of(interaction: Interaction) -> Key:
    """The match key of a written interaction."""
    request = interaction["request"]
    params = request_params(request["method"], request["uri"], request.get("body"))
    return match_key(params or {})


def read(path: Path, label: str) -> list[Interaction]:
    """The interactions of the cassette at `path`; CassetteError naming `label` if unusable."""
    hint = "fix it, delete it, or re-record it with --agentbay-record-mode=rewrite"
    try:
        document = yaml.load(path.read_bytes(), Loader=_Loader)
    except OSError as error:
        raise CassetteError(f"cannot read cassette {label}: {error.strerror}") from None
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise CassetteError(f"cassette {label} is not valid YAML{line}: {hint}") from None
    interactions = document.get("interactions") if isinstance(document, dict) else None
    if not isinstance(interactions, list):
        raise CassetteError(f"cassette {label} has no list of interactions: {hint}")
    internalize(interactions, path, label)
    for number, interaction in enumerate(interactions, 1):
        problem = _problem(interaction)
        if problem:
            raise CassetteError(f"cassette {label}, interaction {number}: {problem}; {hint}")
    return interactions


def _problem(interaction: Any) -> str:
    try:
        request, response = interaction["request"], interaction["response"]
        fields = (request["method"], request["uri"], response["status"]["code"])
        body = response["body"]["string"]
    except (KeyError, TypeError):
        return "it lacks request method/uri or response status/body"
    if not all(isinstance(f, str) for f in fields[:2]) or not isinstance(fields[2], int):
        return "request method/uri must be strings and the status code a number"
    return "" if isinstance(body, (str, bytes)) else "the response body must be a string"


def write(
    path: Path, label: str, interactions: list[Interaction], secrets: list[str], since: Stamp
) -> tuple[list[Interaction], Stamp]:
    """Write `interactions` to `path` unless a secret is in them; returns what was written.

    When the file changed after `since` (another xdist worker wrote it), its interactions are
    kept and only those of `interactions` whose requests it lacks are added."""
    _scan(interactions, label, secrets)
    with _locked(path):
        if stamp(path) != since and path.exists():
            current = read(path, label)
            known = {key_of(i) for i in current}
            interactions = current + [i for i in interactions if key_of(i) not in known]
        text = yaml.dump(
            {"interactions": externalize(interactions, path), "version": 1},
            Dumper=_Dumper,
            sort_keys=False,
            allow_unicode=True,
            width=2**30,
        )
        _atomic_write(path, text.encode())
        return interactions, stamp(path)


def _scan(interactions: list[Interaction], label: str, secrets: list[str]) -> None:
    """Fail closed: a secret anywhere means nothing is written."""
    for number, interaction in enumerate(interactions, 1):
        for where, text in _strings(interaction, ""):
            found = find_secret(text, *secrets)
            if found:
                raise SecretInCassette(
                    f"refused to write cassette {label}: interaction {number} ({where}) holds "
                    f"{found}. Nothing was written. Stop the code under test from putting the "
                    "secret there, or scrub it before it reaches the API."
                )


def _strings(node: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for name, value in node.items():
            yield from _strings(value, f"{where}.{name}" if where else str(name))
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value, where)
    elif isinstance(node, bytes):
        yield where, node.decode("utf-8", "replace")
    elif isinstance(node, str):
        yield where, node


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Exclusive among processes of this machine; the lock file lives outside the project."""
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]
    lock = Path(tempfile.gettempdir()) / f"pytest-agentbay-cassette-{digest}.lock"
    with FileLock(lock, thread_local=False):
        yield
