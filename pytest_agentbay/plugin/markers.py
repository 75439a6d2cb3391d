"""The `agentbay` marker: validated at collection, merged closest-first into session parameters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from .options import merged_labels, setting

if TYPE_CHECKING:
    from ..models.params import CreateSessionParams

MARKER = "agentbay"
MARKER_HELP = (
    "agentbay(image=..., labels={...}, **CreateSessionParams fields): the image, labels and "
    "settings of the sessions this test, class or module uses"
)


def _fields() -> set[str]:
    """The marker's arguments (imported on first use: runs without AgentBay tests never pay
    for pydantic)."""
    from ..models.params import CreateSessionParams

    return set(CreateSessionParams.model_fields) | {"image"}


def _marker_kwargs(node: pytest.Item | pytest.Collector) -> list[dict[str, Any]]:
    """Keyword arguments of every `agentbay` marker in reach of `node`, closest first."""
    found = []
    for mark in node.iter_markers(MARKER):
        if mark.args:
            raise pytest.UsageError(
                f"{node.nodeid}: @pytest.mark.agentbay takes keyword arguments only "
                f"(image=..., labels={{...}}), got positional {mark.args!r}"
            )
        found.append(dict(mark.kwargs))
    return found


def validate(item: pytest.Item) -> None:
    """UsageError naming the test and argument when a marker in reach is malformed."""
    from pydantic import ValidationError

    from ..models.params import CreateSessionParams

    fields = _fields()
    for kwargs in _marker_kwargs(item):
        unknown = sorted(set(kwargs) - fields)
        if unknown:
            raise pytest.UsageError(
                f"{item.nodeid}: unknown @pytest.mark.agentbay argument {unknown[0]!r}; "
                f"known: {', '.join(sorted(fields))}"
            )
        try:
            CreateSessionParams(**_renamed(kwargs))
        except ValidationError as error:
            problem = error.errors(include_url=False)[0]
            argument = ".".join(str(p) for p in problem["loc"]) or "labels"
            if argument == "image_id" and "image" in kwargs:
                argument = "image"  # name it as the marker was written
            raise pytest.UsageError(
                f"{item.nodeid}: @pytest.mark.agentbay argument {argument!r}: {problem['msg']}"
            ) from None


def _renamed(kwargs: dict[str, Any]) -> dict[str, Any]:
    kwargs = dict(kwargs)
    if "image" in kwargs:
        kwargs["image_id"] = kwargs.pop("image")
    return kwargs


def session_params(
    config: pytest.Config,
    node: pytest.Item | pytest.Collector,
    tags: dict[str, str],
    base: dict[str, Any] | None = None,
) -> CreateSessionParams:
    """Parameters for a session serving `node`: `base` (the `agentbay_session_params` fixture's
    fields) first, then the markers, the closest winning for each field; labels merge key by
    key; the image follows the settings precedence, and `tags` are added last."""
    from ..models.params import CreateSessionParams

    fields: dict[str, Any] = dict(base or {})
    labels: dict[str, str] = dict(fields.pop("labels", None) or {})
    for kwargs in reversed(_marker_kwargs(node)):  # farthest first, so closer ones overwrite
        kwargs = _renamed(kwargs)
        labels.update(kwargs.pop("labels", None) or {})
        fields.update(kwargs)
    image = setting(config, "agentbay_image", marker=fields.pop("image_id", None))
    labels = {**merged_labels(config, labels), **tags}
    return CreateSessionParams(image_id=image, labels=labels, **fields)
