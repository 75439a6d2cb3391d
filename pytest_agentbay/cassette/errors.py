"""What can go wrong with a cassette, each error naming the file."""

from __future__ import annotations


class CassetteError(Exception):
    """A cassette cannot be used or written; the message names the file and what to do."""


class NoMatch(CassetteError):
    """A request has no recorded reply left in the cassette in use."""


class SecretInCassette(CassetteError):
    """Writing a cassette was refused because it would hold a secret."""
