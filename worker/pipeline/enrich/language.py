"""The article's language: the sender's, else py3langid's, with Ukrainian and Russian told
apart by the letters only one of them has."""

from __future__ import annotations

import re
from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from worker.pipeline.article import EnrichedArticle
from worker.pipeline.enrich.enricher import Enricher

_WORD = re.compile(r"\w+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LETTER = re.compile(r"[^\W\d_]")
_UKRAINIAN_ONLY = re.compile(r"[іїєґІЇЄҐ]")
_RUSSIAN_ONLY = re.compile(r"[ыэъёЫЭЪЁ]")
_CYRILLIC_LANGUAGES = {"uk", "ru", "be", "bg", "mk", "sr", "kk", "ky", "mn"}


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> tuple[str | None, float]:
    """Language code and confidence. py3langid confuses Ukrainian and Russian on short
    texts; letters only one of them has settle it."""
    sample = text[:2000]  # langid settles well before 2,000 characters; its walk is per byte
    if not _WORD.search(sample):
        return None, 0.0
    language, confidence = _identifier().classify(sample)
    cyrillic = len(_CYRILLIC.findall(sample))
    letters = len(_LETTER.findall(sample))
    if letters and cyrillic / letters > 0.5 and language in _CYRILLIC_LANGUAGES | {"uk", "ru"}:
        ukrainian = len(_UKRAINIAN_ONLY.findall(sample))
        russian = len(_RUSSIAN_ONLY.findall(sample))
        if ukrainian > russian:
            language = "uk"
        elif russian > ukrainian:
            language = "ru"
    return language, round(float(confidence), 4)


def _apply(article: EnrichedArticle) -> None:
    parsed = article.parsed
    if parsed.declared_language:
        article.language, article.language_confidence = parsed.declared_language, 1.0
        return
    text = " ".join(filter(None, [parsed.title, parsed.body]))
    article.language, article.language_confidence = detect_language(text)
    parsed.provenance["language"] = "heuristic"


ENRICHER = Enricher("language.py3langid+cyrillic", "1", _apply, languages=None)
