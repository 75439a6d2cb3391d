"""Tapes: one cassette file in memory, indexed by match key (the deck, `deck.Deck`, routes
each request to the tape in use).

Lookups cost one dict access whatever the size of the cassette; repeated identical requests
(polling) get their recorded replies in recorded order.
"""

from __future__ import annotations

import json
from collections import Counter, deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from . import compiled, files
from .errors import NoMatch
from .keys import Key, Params, closest, describe
from .scrub import Interaction
from .volatile import Loosener

Mode = Literal["replay", "record", "new_episodes", "all"]
RERECORD = "pytest --agentbay --agentbay-record-mode=rewrite"


def tape_mode(record_mode: str, exists: bool) -> Mode:
    """How a tape behaves under a record mode (pytest-recording's meanings)."""
    if record_mode == "once":
        return "replay" if exists else "record"
    if record_mode in ("new_episodes", "all"):
        return record_mode  # type: ignore[return-value]
    return "record" if record_mode == "rewrite" else "replay"


class Tape:
    """The interactions of one cassette: played back by key, recorded, saved by mode."""

    def __init__(
        self, path: Path, label: str, name: str, record_mode: str, cache: Path | None = None
    ) -> None:
        self.path, self.label, self.name = path, label, name  # label: for people; name: stable
        self.stamp = files.stamp(path)
        self.mode = tape_mode(record_mode, self.stamp is not None)
        loaded: list[Interaction] = []
        self.keys: list[Key] = []
        if self.stamp and record_mode != "rewrite":  # `cache`: see compiled.py
            loaded, self.keys = compiled.load(path, label, cache)
        self.loaded = loaded
        self._queues = _index(self.keys, range(len(loaded)))
        self._played = [False] * len(loaded)
        self._loose: dict[Loosener, dict[Key, deque[int]]] = {}
        self._sizes = Counter(self.keys)
        self.base = loaded if self.mode in ("new_episodes", "all") else []
        self.recorded: list[tuple[Key, Interaction]] = []
        # Aliases a new session must not take: those of sessions the tape can still replay
        # (in "all" mode, re-recording a create reuses its alias and replaces it).
        self.created = _created_sessions(loaded) if self.mode == "new_episodes" else set()
        self.must_play_all = False  # checked once the test's fixtures are torn down

    @property
    def dirty(self) -> bool:
        """Whether live interactions wait to be written."""
        return bool(self.recorded)

    @property
    def played(self) -> int:
        """How many recorded interactions were played back."""
        return sum(self._played)

    def unplayed(self) -> list[str]:
        """The requests of the recorded interactions not played back, in recorded order."""
        left = [i for i, done in zip(self.loaded, self._played, strict=True) if not done]
        return [describe(dict(files.key_of(i))) for i in left]

    def all_played_problem(self) -> str:
        """Why not every recorded interaction was played back ("" if all were)."""
        left = self.unplayed()
        if not left:
            return ""
        lines = [f"{len(left)} of {len(self.loaded)} recorded interactions in {self.label}"]
        lines[0] += " were not played back (agentbay_cassette.assert_all_played()):"
        return "\n".join(lines + [f"    {line}" for line in left])

    def play(self, key: Key) -> Interaction | None:
        """The next recorded reply to `key`, or None (record it, or a miss)."""
        if self.mode in ("replay", "new_episodes"):
            return self._take(self._queues.get(key))
        return None

    def play_loose(self, key: Key, loosen: Loosener) -> Interaction | None:
        """The first unplayed interaction whose request equals `key` once both have their
        volatile parts blanked (replay only; after `play` missed)."""
        if self.mode != "replay":
            return None
        if loosen not in self._loose:  # built on the first miss: exact lookups never pay
            unplayed = [n for n, done in enumerate(self._played) if not done]
            self._loose[loosen] = _index([loosen(self.keys[n]) for n in unplayed], unplayed)
        return self._take(self._loose[loosen].get(loosen(key)))

    def _take(self, queue: deque[int] | None) -> Interaction | None:
        while queue:
            number = queue.popleft()
            if not self._played[number]:  # (a loose match may have played it already)
                self._played[number] = True
                return self.loaded[number]
        return None

    def record(self, key: Key, interaction: Interaction) -> None:
        """Keep a live interaction for the next save."""
        self.recorded.append((key, interaction))

    def miss(self, key: Key, params: Params) -> NoMatch:
        """The error for a request this tape cannot answer."""
        lines = [f"cassette {self.label} has no recorded reply for", f"    {describe(params)}"]
        if self._sizes[key]:
            lines.append(
                f"  all {self._sizes[key]} recorded replies to it were already played: it was "
                "sent more often than when the cassette was recorded"
            )
        else:
            found = closest(key, self.keys)
            if found is None:
                lines.append("  the cassette has no recorded requests")
            else:
                lines.append(f"  closest recorded request (differs in {', '.join(found[1])}):")
                lines.append(f"    {describe(dict(found[0]))}")
        lines.append(f"  if the test changed, re-record it with `{RERECORD}`;")
        lines.append(
            "  if the request differs on every run (a fresh id or name), re-recording will not"
            " help: declare that part volatile (`agentbay_volatile = REGEX` in the ini file,"
            " or `agentbay_cassette.volatile(REGEX)` in the test)"
        )
        return NoMatch("\n".join(lines))

    def save(self, secrets: list[str]) -> None:
        """Write the tape as its mode says; on success what was written becomes the base."""
        replaced = {key for key, _ in self.recorded} if self.mode == "all" else set()
        kept = [i for i in self.base if not replaced or files.key_of(i) not in replaced]
        written, self.stamp = files.write(
            self.path, self.label, kept + [i for _, i in self.recorded], secrets, self.stamp
        )
        self.base, self.recorded = written, []


def _index(keys: Iterable[Key], numbers: Iterable[int]) -> dict[Key, deque[int]]:
    """Interaction numbers by key, in recorded order."""
    queues: dict[Key, deque[int]] = {}
    for key, number in zip(keys, numbers, strict=True):
        queues.setdefault(key, deque()).append(number)
    return queues


def _created_sessions(interactions: list[Interaction]) -> set[str]:
    """Session ids that CreateMcpSession replies in `interactions` handed out."""
    found = set()
    for interaction in interactions:
        if "Action=CreateMcpSession" in interaction["request"]["uri"]:
            session_id = session_created(interaction["response"]["body"]["string"])
            if session_id:
                found.add(session_id)
    return found


def session_created(body: Any) -> str:
    """The SessionId in a CreateMcpSession reply body, or ""."""
    try:
        data = json.loads(body).get("Data")
    except (ValueError, AttributeError, TypeError):
        return ""
    return str(data.get("SessionId") or "") if isinstance(data, dict) else ""
