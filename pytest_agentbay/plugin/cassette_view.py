"""What the `agentbay_cassette` fixture gives: what the test's cassette is doing, and a way to
declare the parts of its requests that differ on every run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ..cassette.volatile import Declared

if TYPE_CHECKING:
    from ..cassette.deck import Deck
    from ..cassette.tape import Tape

RECORDER = "agentbay-cassettes"  # the name the Recorder is registered under


class AgentBayCassette:
    """The test's cassette. `mode` is "replay", "record", "new_episodes", "all", or "off" when
    this run uses no cassettes (a live run without a record mode, or AgentBay off)."""

    def __init__(self, tape: Tape | None, deck: Deck | None) -> None:
        self._tape, self._deck = tape, deck
        self.mode = tape.mode if tape is not None else "off"
        self.path: Path | None = tape.path if tape is not None else None
        self.label = tape.label if tape is not None else ""  # the path as reports show it

    @property
    def replaying(self) -> bool:
        """Whether recorded replies answer this test (also in new_episodes mode)."""
        return self.mode in ("replay", "new_episodes")

    @property
    def recording(self) -> bool:
        """Whether this test's live traffic is being written to its cassette."""
        return self.mode in ("record", "new_episodes", "all")

    @property
    def interactions(self) -> int:
        """How many recorded interactions the cassette held when the test started."""
        return len(self._tape.loaded) if self._tape is not None else 0

    @property
    def played(self) -> int:
        """How many of them were played back so far."""
        return self._tape.played if self._tape is not None else 0

    def volatile(self, *declared: Declared) -> None:
        """Declare parts of this test's requests that differ on every run, so replay matches
        them anyway: regular expressions, or functions that take a value and return it with
        its volatile parts replaced by something that does not vary."""
        if self._deck is not None:
            for each in declared:
                self._deck.volatile(each)

    def unplayed(self) -> list[str]:
        """The recorded requests not played back so far, in recorded order."""
        return self._tape.unplayed() if self._tape is not None and self.replaying else []

    def assert_all_played(self) -> None:
        """Fail the test if a recorded interaction is not played back by its end: checked once
        its fixtures are torn down (their deletes are in the cassette too), as an error at
        teardown naming each request left. Nothing to check unless replaying."""
        if self._tape is not None and self.replaying:
            self._tape.must_play_all = True

    def __repr__(self) -> str:
        return f"<AgentBayCassette {self.mode} {self.label or '-'}: {self.played} played>"


def cassette_of(config: pytest.Config) -> AgentBayCassette:
    """The cassette of the test running now (mode "off" in a run without cassettes)."""
    recorder = config.pluginmanager.get_plugin(RECORDER)
    if recorder is None:
        return AgentBayCassette(None, None)
    return AgentBayCassette(recorder._test, recorder.deck)
