"""The shape of one line of text, as every labeller reads it."""

from __future__ import annotations

import re

HEADLINE_MAX_WORDS = 30
SENTENCE_END = tuple(".!?…")
DIGIT = re.compile(r"\d")


def is_headline_like(line: str, max_words: int = HEADLINE_MAX_WORDS) -> bool:
    # A headline may ask or exclaim, but does not end like a sentence in prose.
    return len(line.split()) <= max_words and not line.endswith((".", ":", ";", ",", "…"))
