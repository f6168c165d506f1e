"""The production image, read as a reviewer would: no Docker engine runs here, so the
Dockerfile's instructions are checked against what the project installs and needs."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def stages() -> list[list[str]]:
    """Each stage's instructions (comments dropped, continuation lines joined)."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    result: list[list[str]] = []
    for line in lines:
        if line.startswith("#"):
            continue
        if line.startswith("FROM "):
            result.append([])
        result[-1].append(line)
    return result


def test_the_image_copies_every_package_the_wheel_installs() -> None:
    """The console script `newsflow` is cli.main:main: an image without cli/ cannot start."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = [
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    ]
    build = stages()[0]
    for package in packages:
        assert f"COPY {package} ./{package}" in build, f"the image lacks {package}/"


def test_the_runtime_stage_is_built_from_hashed_runtime_dependencies_and_runs_unprivileged() -> (
    None
):
    build, runtime = stages()
    assert any("--require-hashes" in line and "requirements.lock" in line for line in build)
    assert not any("requirements-dev.lock" in line for line in build + runtime)
    assert any(line.startswith("COPY --from=build /opt/newsflow") for line in runtime)
    user = next(line for line in runtime if line.startswith("USER "))
    assert user.split()[1].split(":")[0] not in ("root", "0")
    # nothing is compiled or installed in the image itself
    assert not any(line.startswith("RUN") and "pip install" in line for line in runtime)
