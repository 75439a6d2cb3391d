"""Parameters users pass in: session creation and agent options, validated before any request."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator


def check_labels(labels: Any, what: str = "labels") -> dict[str, str]:
    """`labels` as a dict, or ValueError unless it is a mapping of non-empty strings to strings."""
    if not isinstance(labels, dict):
        raise ValueError(f"{what} must be a dict of str to str, got {type(labels).__name__}")
    for key, value in labels.items():
        if not isinstance(key, str) or not key.strip():
            raise ValueError(f"{what}: every key must be a non-empty string, got {key!r}")
        if not isinstance(value, str):
            raise ValueError(f"{what}[{key!r}] must be a string, got {type(value).__name__}")
    return dict(labels)


class CreateSessionParams(BaseModel):
    """What to create: the image and labels, plus the service's optional session settings."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    image_id: StrictStr | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    idle_release_timeout: int | None = Field(default=None, gt=0)
    policy_id: StrictStr | None = None
    enable_browser_replay: bool | None = None

    @field_validator("labels", mode="before")
    @classmethod
    def _labels(cls, value: Any) -> dict[str, str]:
        return check_labels(value or {})

    @field_validator("image_id")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("image_id must not be blank; leave it None for the default image")
        return value


class AgentOptions(BaseModel):
    """Options of the browser agent (`agent.browser.initialize`)."""

    model_config = ConfigDict(extra="forbid")

    use_vision: bool = False
    output_schema: dict[str, Any] | str = Field(default_factory=dict)
