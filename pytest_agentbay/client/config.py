"""Client configuration: where the API key and endpoint come from, with the precedence below.

API key: the `api_key` argument, else `AGENTBAY_API_KEY`, else a `.env` file (`env_file`, or the
nearest one walking up from the working directory). Endpoint: `cfg`, else `AGENTBAY_ENDPOINT`,
else derived from `AGENTBAY_REGION_ID`, else the production default. Variables are read through
`pytest_agentbay.env` (the environment over a `.env` file), as the plugin reads them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from ..env import API_KEY, Settings

DEFAULT_REGION = "cn-hangzhou"
DEFAULT_ENDPOINT = "agentbay.cn-hangzhou.aliyuncs.com"
DEFAULT_TIMEOUT_MS = 60000
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$")


@dataclass(frozen=True)
class Config:
    """Endpoint (host, or `http(s)://host[:port]`) and request timeout in milliseconds."""

    endpoint: str = DEFAULT_ENDPOINT
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    region_id: str = field(default="", kw_only=True)

    def __post_init__(self) -> None:
        base_url(self.endpoint)
        if isinstance(self.timeout_ms, bool) or not isinstance(self.timeout_ms, int):
            raise ValueError(f"timeout_ms must be an integer, got {self.timeout_ms!r}")
        if self.timeout_ms <= 0:
            raise ValueError(f"timeout_ms must be positive, got {self.timeout_ms}")


def base_url(endpoint: str) -> str:
    """The URL requests go to: `http://` and `https://` endpoints as given, bare hosts on https."""
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise ValueError("endpoint must be a host name or an http(s):// URL, got an empty value")
    endpoint = endpoint.strip().rstrip("/")
    scheme, sep, host = endpoint.partition("://")
    if not sep:
        scheme, host = "https", endpoint
    if scheme not in ("http", "https") or not _HOST.match(host):
        raise ValueError(
            f"endpoint {endpoint!r} is not a host or http(s) URL; "
            "use e.g. 'agentbay.cn-hangzhou.aliyuncs.com' or 'http://127.0.0.1:8080'"
        )
    return f"{scheme}://{host}"


def region_endpoint(region: str) -> str:
    """The service host for `region`; a `pre-` prefix selects the pre-release hosts."""
    if region.startswith("pre-"):
        return f"agentbay-pre.{region[4:]}.aliyuncs.com"
    return f"agentbay.{region}.aliyuncs.com"


@dataclass(frozen=True)
class Resolved:
    """The settings a client runs with. The key never shows in repr."""

    api_key: str = field(repr=False)
    endpoint: str
    timeout_ms: int
    region_id: str


def resolve_settings(
    api_key: str = "",
    cfg: Config | None = None,
    env_file: str | os.PathLike[str] | None = None,
) -> Resolved:
    """Apply the precedence in the module docstring; ValueError names what is missing."""
    setting = Settings(env_file).get
    key = (api_key or setting(API_KEY)).strip()
    if not key:
        raise ValueError(
            "No AgentBay API key: pass api_key=..., set AGENTBAY_API_KEY, "
            "or put AGENTBAY_API_KEY=... in a .env file"
        )
    region = (cfg.region_id if cfg else "") or setting("AGENTBAY_REGION_ID")
    if cfg is not None:
        endpoint, timeout_ms = cfg.endpoint, cfg.timeout_ms
    else:
        endpoint = setting("AGENTBAY_ENDPOINT") or (
            region_endpoint(region) if region else DEFAULT_ENDPOINT
        )
        timeout_ms = int(setting("AGENTBAY_TIMEOUT_MS") or DEFAULT_TIMEOUT_MS)
    return Resolved(key, base_url(endpoint), timeout_ms, region or DEFAULT_REGION)
