"""`agentbay_emulator`: the local backend's knobs, reached over its control endpoint."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx


class EmulatorControlError(RuntimeError):
    """The local backend refused a knob setting."""


class EmulatorControl:
    """Set latency, faults, quotas and scripted agent results on the local backend.

    Works from any process of the run (xdist workers included): it speaks HTTP to the backend.
    Each knob method has the signature of the `Emulator` method of the same name (a test,
    `tests/plugin/test_control_parity.py`, holds them together); the backend checks the values.
    """

    def __init__(self, endpoint: str, api_key: str) -> None:
        self._http = httpx.Client(
            base_url=endpoint,
            trust_env=False,
            timeout=30,
            headers={"Authorization": f"Bearer {api_key}"},
        )

    def __repr__(self) -> str:
        return f"EmulatorControl({str(self._http.base_url)!r})"

    def _post(self, knob: str, **arguments: Any) -> dict[str, Any]:
        reply = self._http.post(f"/_emulator/{knob}", json=arguments)
        body = reply.json()
        if not body.get("ok"):
            raise EmulatorControlError(f"local backend refused {knob}: {body.get('error')}")
        return dict(body["state"])

    def state(self) -> dict[str, Any]:
        """Session counts by status, live count, request counts and knob settings."""
        return dict(self._http.get("/_emulator/state").json()["state"])

    def set_latency(self, action: str, seconds: float) -> None:
        """Delay every `action` call (`"shell"`: every command) by `seconds`."""
        self._post("latency", action=action, seconds=seconds)

    def inject_fault(
        self,
        action: str | None = None,
        *,
        code: str,
        message: str = "",
        http_status: int = 400,
        times: int | None = None,
        rate: float | None = None,
        retry_after_ms: int | None = None,
    ) -> None:
        """Fail `action` calls (None: all) with `code`, the first `times` calls or at `rate`;
        `retry_after_ms` adds the `x-acs-retry-after` header."""
        self._post(
            "fault",
            action=action,
            code=code,
            message=message,
            http_status=http_status,
            times=times,
            rate=rate,
            retry_after_ms=retry_after_ms,
        )

    def throttle(
        self,
        action: str | None = None,
        *,
        times: int | None = None,
        rate: float | None = None,
        retry_after_ms: int = 1000,
    ) -> None:
        """Answer `action` calls with `Throttling.User`."""
        self._post("throttle", action=action, times=times, rate=rate, retry_after_ms=retry_after_ms)

    def set_quota(self, max_sessions: int | None, api_key: str | None = None) -> None:
        """Limit concurrent sessions per API key (`api_key`, or the default for every key)."""
        self._post("quota", max_sessions=max_sessions, api_key=api_key)

    def script_task(
        self,
        pattern: str,
        *,
        statuses: Iterable[str] | None = None,
        result: str | Mapping[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        """Agent tasks matching `pattern` follow `statuses` and give `result` or `error`."""
        self._post(
            "script_task",
            pattern=pattern,
            statuses=None if statuses is None else list(statuses),
            result=result,
            error=error,
        )

    def set_timing(
        self, *, settle_seconds: float | None = None, task_seconds: float | None = None
    ) -> None:
        """How long pause/resume/delete transitions and agent tasks take."""
        self._post("timing", settle_seconds=settle_seconds, task_seconds=task_seconds)

    def reseed(self, seed: int | None) -> None:
        """Make the backend's ids deterministic from `seed` from now on (None: random)."""
        self._post("seed", seed=seed)

    def reset(self, *, sessions: bool = False) -> None:
        """Knobs back to their defaults; `sessions=True` also ends every session."""
        self._post("reset", sessions=sessions)

    def close(self) -> None:
        """Close the HTTP connection."""
        self._http.close()
