"""Cassette names: `<module path>/<test name>.agentbay.yaml`, and one per wider fixture scope.

The `.agentbay` part keeps a test's file apart from pytest-recording's `<test name>.yaml`,
which defaults to the same directory for a test module in the rootdir.

Test names keep letters, digits and `_.-[]=,+`; anything else (from parametrized ids) becomes
`_` and the name gets a short hash of the original, so two ids never share a file.
"""

from __future__ import annotations

import hashlib
import re

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-\[\]=,+]")
_LONGEST = 100
SUFFIX = ".agentbay.yaml"


def safe(segment: str) -> str:
    """`segment` as a file-system-safe file name."""
    clean = _UNSAFE.sub("_", segment)
    if clean.strip(".") == "":
        clean = clean.replace(".", "_") or "_"
    if clean != segment or len(clean) > _LONGEST:
        clean = f"{clean[:_LONGEST]}-{hashlib.sha1(segment.encode()).hexdigest()[:8]}"
    return clean


def _module(path: str) -> str:
    path = path[:-3] if path.endswith(".py") else path
    return "/".join(safe(part) for part in path.split("/") if part)


def test_cassette(nodeid: str) -> str:
    """`examples/test_x.py::TestY::test_z[1]` -> `examples/test_x/TestY.test_z[1].agentbay.yaml`."""
    path, _, name = nodeid.partition("::")
    return f"{_module(path)}/{safe(name.replace('::', '.'))}{SUFFIX}"


def scope_cassette(scope: str, nodeid: str) -> str:
    """The cassette of the fixtures of `scope` set up for the node `nodeid`."""
    path, _, name = nodeid.partition("::")
    if scope == "session" or not path:
        return "__session__.yaml"
    if scope == "package":
        return f"{_module(path)}/__package__.yaml"
    if scope == "class" and name:
        return f"{_module(path)}/{safe(name.replace('::', '.'))}.__class__.yaml"
    return f"{_module(path)}/__module__.yaml"
