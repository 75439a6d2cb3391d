"""Settings from outside the code: the environment, else a `.env` file (the one given, or the
nearest one walking up from the working directory). A `.env` never overrides a variable that
is set, and reading it does not change `os.environ`. The client and the plugin's backend choice
both read the API key here, so they cannot disagree."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values, find_dotenv

API_KEY = "AGENTBAY_API_KEY"


class Settings:
    """The environment over one `.env` file."""

    def __init__(self, env_file: str | os.PathLike[str] | None = None) -> None:
        self._file = _dotenv(env_file)

    def get(self, name: str) -> str:
        """`name` from the environment, else the `.env` file; "" when neither sets it."""
        return (os.environ.get(name) or self._file.get(name) or "").strip()


def _dotenv(env_file: str | os.PathLike[str] | None) -> Mapping[str, str | None]:
    if env_file is not None:
        if not Path(env_file).is_file():
            raise ValueError(f"env_file {os.fspath(env_file)!r} does not exist")
        return dotenv_values(env_file)
    found = find_dotenv(usecwd=True)
    return dotenv_values(found) if found else {}


def api_key(env_file: str | os.PathLike[str] | None = None) -> str:
    """AGENTBAY_API_KEY from the environment, else a `.env` file; "" when neither has one."""
    return Settings(env_file).get(API_KEY)
