"""The NOTICE file keeps up with the lock file: every pinned dependency whose licence a
distributor must act on (copyleft of any strength, share-alike data) is named in it."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
# licence words that carry obligations beyond keeping a copyright notice
OBLIGATIONS = re.compile(r"\b(L?GPL|AGPL|MPL|Mozilla|GNU|CC[ -]BY|EUPL|SSPL|copyleft)", re.I)


def licence_of(name: str) -> str:
    metadata = importlib.metadata.metadata(name)
    classifiers = [c for c in metadata.get_all("Classifier") or () if c.startswith("License")]
    # the License field's first line: some packages put the whole text there, whose
    # prose names other licences (matplotlib's mentions the GNU GPL)
    first_line = (metadata["License"] or "").strip().split("\n")[0]
    fields = [metadata["License-Expression"] or "", first_line]
    return " ".join([*fields, *classifiers])


def _installed(name: str) -> bool:
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def test_every_dependency_with_obligations_is_named_in_the_notice() -> None:
    notice = (ROOT / "NOTICE").read_text(encoding="utf-8").lower()
    pinned = [
        line.split("==")[0].strip()
        for line in (ROOT / "requirements-dev.lock").read_text().splitlines()
        if "==" in line and not line.startswith(("#", " "))
    ]
    installed = [name for name in pinned if _installed(name)]  # not: other platforms' only
    with_obligations = [name for name in installed if OBLIGATIONS.search(licence_of(name))]
    assert "psycopg" in with_obligations  # the check reads the licences at all
    missing = [name for name in with_obligations if name.lower() not in notice]
    assert not missing, f"name these in NOTICE with their licence: {missing}"


def test_the_licence_file_is_the_one_the_project_declares() -> None:
    assert 'license = "Apache-2.0"' in (ROOT / "pyproject.toml").read_text()
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
