"""Identifiers shaped like the service's, random or, when seeded, deterministic per kind."""

from __future__ import annotations

import random
import string
import threading

_LOWER_ALNUM = string.ascii_lowercase + string.digits
_HEX = "0123456789abcdef"


class Ids:
    """Makes session, resource, app-instance, request, task and trace ids.

    Seeded, each kind of id draws from its own stream, so session ids stay the same however many
    requests (each with its own RequestId) came in between.
    """

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self._streams: dict[str, random.Random] = {}

    def reseed(self, seed: int | None) -> None:
        """Start every stream again from `seed` (None: unpredictable ids)."""
        with self._lock:
            self._seed = seed
            self._streams.clear()

    def _draw(self, kind: str, alphabet: str, length: int) -> str:
        with self._lock:
            stream = self._streams.get(kind)
            if stream is None:
                if self._seed is None:
                    stream = random.SystemRandom()
                else:
                    stream = random.Random(f"{self._seed}:{kind}")
                self._streams[kind] = stream
            # One draw per id, not one per character: a system-random draw is a system call.
            number = stream.getrandbits(8 * length + 64)
        chars = []
        for _ in range(length):
            number, index = divmod(number, len(alphabet))
            chars.append(alphabet[index])
        return "".join(chars)

    def fraction(self, kind: str) -> float:
        """A number in [0, 1) from the stream `kind` (fault rates)."""
        return int(self._draw(kind, _HEX, 8), 16) / 16**8

    def session_id(self) -> str:
        """`session-` and 17 lowercase letters and digits, like the service's."""
        return "session-" + self._draw("session", _LOWER_ALNUM, 17)

    def resource_id(self) -> str:
        """`p-` and 12 lowercase letters and digits."""
        return "p-" + self._draw("resource", _LOWER_ALNUM, 12)

    def app_instance_id(self) -> str:
        """`ai-` and 17 lowercase letters and digits."""
        return "ai-" + self._draw("app", _LOWER_ALNUM, 17)

    def request_id(self) -> str:
        """An uppercase UUID-shaped request id."""
        raw = self._draw("request", _HEX, 32).upper()
        return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"

    def task_id(self) -> str:
        """`task-` and 16 hex digits."""
        return "task-" + self._draw("task", _HEX, 16)

    def trace_id(self) -> str:
        """32 lowercase hex digits, for shell error payloads."""
        return self._draw("trace", _HEX, 32)

    def secret(self) -> str:
        """An opaque emulated auth code or ticket (not a real credential)."""
        return self._draw("secret", _LOWER_ALNUM, 24)
