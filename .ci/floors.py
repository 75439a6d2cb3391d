"""The dependency floors of pyproject.toml (`name>=version`) as pins, for CI's floors job.

`python .ci/floors.py [EXTRA ...]` prints `name==version` for every floor of the runtime
dependencies and of the extras named; `--check` instead exits non-zero unless exactly those
versions are installed in the running environment.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.version import Version

try:
    import tomllib
except ImportError:  # Python 3.10
    from pip._vendor import tomli as tomllib

FLOOR = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)")


def floors(extras: list[str]) -> dict[str, str]:
    """name -> lowest allowed version, for the runtime dependencies and `extras`."""
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    found = {}
    for requirement in requirements:
        match = FLOOR.match(requirement)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def main(args: list[str]) -> int:
    check = "--check" in args
    wanted = floors([a for a in args if a != "--check"])
    if not check:
        print("\n".join(f"{name}=={version}" for name, version in wanted.items()))
        return 0
    wrong = {
        name: metadata.version(name)
        for name, version in wanted.items()
        if Version(metadata.version(name)) != Version(version)
    }
    for name, installed in wrong.items():
        print(f"floor of {name} is {wanted[name]}, but {installed} is installed")
    print(f"dependency floors installed: {', '.join(f'{n} {v}' for n, v in wanted.items())}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
