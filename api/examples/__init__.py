"""The OpenAPI document's examples: the seed article as submitted, and the document the
pipeline made of it. ``python -m api.examples.regenerate`` remakes article.json after the
pipeline changes; tests/unit/api/test_openapi.py checks both against the contract."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_FOLDER = Path(__file__).parent
SEED_ID = "0193e0a4-6f3b-7c2e-9a51-5d7e2f8c1a00"  # the example's article id


@cache
def example(name: str) -> Any:
    """``submission``, ``accepted`` or ``article``."""
    return json.loads((_FOLDER / f"{name}.json").read_text(encoding="utf-8"))


def openapi_example(name: str, summary: str) -> dict[str, Any]:
    """An OpenAPI ``examples`` entry."""
    return {name: {"summary": summary, "value": example(name)}}
