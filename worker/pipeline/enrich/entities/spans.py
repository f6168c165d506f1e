"""A span found in the text, and the tests of its surroundings every span finder uses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from worker.pipeline.lang.morphology import is_common_word

SENTENCE_START: Final = re.compile(r"(?:^|[.!?…]['\"”’»)]*\s+|\n\s*|[\"“«]\s*)$")


@dataclass
class Span:
    start: int
    end: int
    type: str
    # set when the gazetteer knows the span: (canonical, key, country_code)
    known: tuple[str, str, str | None] | None = None


def is_quoted(text: str, start: int, end: int) -> bool:
    return text[start - 1 : start] in ("«", '"', "“") and text[end : end + 1] in ("»", '"', "”")


def at_sentence_start(text: str, start: int) -> bool:
    """Whether a sentence, a line or a quotation opens just before ``start``."""
    return SENTENCE_START.search(text[max(0, start - 6) : start]) is not None


def opens_sentence(text: str, start: int, end: int) -> bool:
    """The word at start:end opens a sentence and is not quoted ("Дія закону", not «Дія»)."""
    return not is_quoted(text, start, end) and at_sentence_start(text, start)


def common_word_at_sentence_start(text: str, start: int, end: int, language: str) -> bool:
    """A capitalised word that opens a sentence and is also a common word: in English,
    one the text also writes in lower case; in Ukrainian/Russian, a dictionary word."""
    if not opens_sentence(text, start, end):
        return False
    word = text[start:end]
    if language in ("uk", "ru"):
        return " " not in word and is_common_word(word, language)
    lowered = word[:1].lower() + word[1:]
    return (
        lowered in text and re.search(rf"(?<![\w-]){re.escape(lowered)}(?![\w-])", text) is not None
    )
