"""The article's language: the sender's, else py3langid's, with a prior for the languages
newsflow models (en, uk, ru) and Ukrainian and Russian told apart by the letters only one
of them has."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from worker.pipeline.article import EnrichedArticle
from worker.pipeline.enrich.enricher import Enricher

_WORD = re.compile(r"\w+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_LETTER = re.compile(r"[^\W\d_]")
_UKRAINIAN_ONLY = re.compile(r"[іїєґІЇЄҐ]")
_RUSSIAN_ONLY = re.compile(r"[ыэъёЫЭЪЁ]")
_CYRILLIC_LANGUAGES = {"uk", "ru", "be", "bg", "mk", "sr", "kk", "ky", "mn"}
# the languages with entity models, by the script they are written in
_MODELED_BY_SCRIPT: Final = {"latin": frozenset({"en"}), "cyrillic": frozenset({"uk", "ru"})}
# a language without a model must be this many times likelier than the best modeled one
# of the same script: on short texts (results tables, datelines) the identifier's first and
# second choices are often within a factor of ten
_MODELED_PRIOR: Final = 10.0


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=1)
def _official_languages() -> frozenset[str]:
    """Languages official (nationally or regionally) in some territory, from CLDR (babel):
    the languages news is commonly published in."""
    from babel.core import get_global

    return frozenset(
        language
        for languages in get_global("territory_languages").values()
        for language, info in languages.items()
        if "official" in str(info.get("official_status") or "")
    )


def _script(sample: str) -> str | None:
    """The script most of the letters are in, when it is Latin or Cyrillic."""
    letters = len(_LETTER.findall(sample))
    if not letters:
        return None
    if len(_CYRILLIC.findall(sample)) / letters > 0.5:
        return "cyrillic"
    if len(_LATIN.findall(sample)) / letters > 0.5:
        return "latin"
    return None


def detect_language(text: str) -> tuple[str | None, float]:
    """Language code and confidence. A language newsflow has no model for wins over the
    best-ranked modeled language of the text's script only when it is a language of record
    somewhere and clearly likelier (a short English sports report is not Nigerian Pidgin).
    py3langid confuses Ukrainian and Russian on short texts; letters only one of them has
    settle it."""
    sample = text[:2000]  # langid settles well before 2,000 characters; its walk is per byte
    if not _WORD.search(sample):
        return None, 0.0
    ranking = _identifier().rank(sample)
    language, confidence = ranking[0]
    script = _script(sample)
    modeled = _MODELED_BY_SCRIPT.get(script or "", frozenset())
    if modeled and language not in modeled:
        best, probability = next((lang, p) for lang, p in ranking if lang in modeled)
        if language not in _official_languages() or confidence < _MODELED_PRIOR * probability:
            language, confidence = best, probability
    if script == "cyrillic" and language in _CYRILLIC_LANGUAGES:
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


ENRICHER = Enricher("language.py3langid+cyrillic", "2", _apply, languages=None)
