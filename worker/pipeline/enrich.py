"""enrich(ParsedArticle) -> EnrichedArticle. Each enricher is a plain function and is
recorded with its name and version."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from worker.pipeline.model import EnrichedArticle, EnricherResult, ParsedArticle

LANGUAGE_ENRICHER = EnricherResult("language.py3langid+cyrillic", "1")
_WORD = re.compile(r"\w+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_UKRAINIAN_ONLY = re.compile(r"[іїєґІЇЄҐ]")
_RUSSIAN_ONLY = re.compile(r"[ыэъёЫЭЪЁ]")
_CYRILLIC_LANGUAGES = {"uk", "ru", "be", "bg", "mk", "sr", "kk", "ky", "mn"}


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> tuple[str | None, float]:
    """Language code and confidence. py3langid confuses Ukrainian and Russian on short
    texts; letters only one of them has settle it."""
    sample = text[:5000]
    if not _WORD.search(sample):
        return None, 0.0
    language, confidence = _identifier().classify(sample)
    cyrillic = len(_CYRILLIC.findall(sample))
    letters = sum(1 for ch in sample if ch.isalpha())
    if letters and cyrillic / letters > 0.5 and language in _CYRILLIC_LANGUAGES | {"uk", "ru"}:
        ukrainian = len(_UKRAINIAN_ONLY.findall(sample))
        russian = len(_RUSSIAN_ONLY.findall(sample))
        if ukrainian > russian:
            language = "uk"
        elif russian > ukrainian:
            language = "ru"
    return language, round(float(confidence), 4)


def normalised_body_hash(body: str) -> str:
    normalised = " ".join(_WORD.findall(body.casefold()))
    return hashlib.sha256(normalised.encode()).hexdigest()


def enrich(article: ParsedArticle) -> EnrichedArticle:
    body = article.body
    language: str | None
    if article.declared_language:
        language, confidence = article.declared_language, 1.0
    else:
        language, confidence = detect_language(" ".join(filter(None, [article.title, body])))
        article.provenance["language"] = "heuristic"
    return EnrichedArticle(
        parsed=article,
        language=language,
        language_confidence=confidence,
        word_count=len(_WORD.findall(body)),
        content_hash=normalised_body_hash(body),
        enrichers=[LANGUAGE_ENRICHER],
    )
