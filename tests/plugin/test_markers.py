"""The `agentbay` marker: on a test, a class or a module; merging, validation, selection."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import QUIET, Backend, run

LAYERED = """
import pytest

pytestmark = [
    pytest.mark.agentbay(
        image="code_latest", idle_release_timeout=600, labels={"a": "module", "b": "module"}
    )
]


@pytest.mark.agentbay(image="browser_latest", labels={"b": "class", "c": "class"})
class TestLayers:
    @pytest.mark.agentbay(labels={"c": "test"}, policy_id="policy-1")
    def test_closest(self, agentbay_session):
        pass

    def test_class_session(self, agentbay_class_session):
        pass


def test_module_only(agentbay_session):
    pass


def test_module_session(agentbay_module_session):
    pass
"""


def _user_labels(labels: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in labels.items() if not k.startswith("pytest-agentbay.")}


def test_closest_marker_wins_per_field_and_labels_merge(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makepyfile(test_layers=LAYERED)
    run(inner).assert_outcomes(passed=4)

    def made_for(nodeid: str) -> list[tuple[Any, ...]]:
        return [
            (p["ImageId"], p.get("Timeout"), p.get("McpPolicyId"), _user_labels(p["Labels"]))
            for p in backend.create_params_for(nodeid)
        ]

    # the test's own session: image from the class, timeout from the module, labels from all
    assert made_for("test_layers.py::TestLayers::test_closest") == [
        ("browser_latest", "600", "policy-1", {"a": "module", "b": "class", "c": "test"})
    ]
    # the class session sees the class and module markers
    assert made_for("test_layers.py::TestLayers") == [
        ("browser_latest", "600", None, {"a": "module", "b": "class", "c": "class"})
    ]
    # a test outside the class, and the module session, see the module marker only
    assert (
        made_for("test_layers.py::test_module_only")
        == made_for("test_layers.py")
        == [("code_latest", "600", None, {"a": "module", "b": "module"})]
    )
    assert backend.creates() == 4


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        (
            'agentbay(imag="code_latest")',
            "*test_bad.py::test_one: unknown @pytest.mark.agentbay argument 'imag'; known: *image*",
        ),
        (
            'agentbay(labels={"team": 7})',
            "*test_bad.py::test_one: @pytest.mark.agentbay argument 'labels': *must be a string*",
        ),
        (
            "agentbay(idle_release_timeout='soon')",
            "*test_bad.py::test_one: @pytest.mark.agentbay argument 'idle_release_timeout': *",
        ),
        (
            "agentbay(image=3)",
            "*test_bad.py::test_one: @pytest.mark.agentbay argument 'image': *",
        ),
        (
            'agentbay("code_latest")',
            "*test_bad.py::test_one: @pytest.mark.agentbay takes keyword arguments only*"
            "positional ('code_latest',)*",
        ),
    ],
)
def test_malformed_markers_are_usage_errors_at_collection(
    inner: pytest.Pytester, backend: Backend, marker: str, message: str
) -> None:
    inner.makepyfile(
        test_bad=f"""
        import pytest

        def test_fine(agentbay_session):
            pass

        @pytest.mark.{marker}
        def test_one(agentbay_session):
            pass
        """
    )
    result = run(inner)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert backend.creates() == 0


def test_malformed_module_marker_names_the_test_in_reach(
    inner: pytest.Pytester, backend: Backend
) -> None:
    inner.makepyfile(
        test_bad="""
        import pytest

        pytestmark = pytest.mark.agentbay(colour="red")

        def test_one():
            pass
        """
    )
    result = run(inner)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_bad.py::test_one: unknown *argument 'colour'*"])


SELECTION = """
import pytest

def test_plain():
    pass

def test_fixture(agentbay_client):
    pass

async def test_async_fixture(async_agentbay_client):
    pass

@pytest.mark.agentbay(image="code_latest")
def test_marked():
    pass

class TestEndpoint:
    def test_endpoint(self, agentbay_endpoint):
        pass
"""


@pytest.mark.parametrize(
    ("expression", "selected"),
    [
        ("agentbay", {"test_fixture", "test_async_fixture", "test_marked", "test_endpoint"}),
        ("not agentbay", {"test_plain"}),
    ],
)
def test_tests_using_agentbay_fixtures_get_the_marker(
    inner: pytest.Pytester, expression: str, selected: set[str]
) -> None:
    inner.makepyfile(SELECTION)
    result = inner.runpytest(*QUIET, "-m", expression, "--collect-only", "-q")
    names = {line.rpartition("::")[2] for line in result.stdout.lines if "::" in line}
    assert names == selected
    assert result.ret == pytest.ExitCode.OK


def test_marker_is_registered(inner: pytest.Pytester) -> None:
    result = inner.runpytest("--markers", "--strict-markers")
    result.stdout.fnmatch_lines(["@pytest.mark.agentbay(image=..., labels={...}, *"])
