"""enrich(ParsedArticle) -> EnrichedArticle. Each enricher is a plain function and is
recorded with its name and version."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from worker.pipeline.amounts import ENRICHER as AMOUNTS
from worker.pipeline.amounts import extract_amounts
from worker.pipeline.duplicates import SIMHASH_ENRICHER, simhash
from worker.pipeline.entities import ENTITIES_ENRICHER, extract_entities, first_mentions
from worker.pipeline.keywords import ENRICHER as KEYWORDS
from worker.pipeline.keywords import RETIRED_NAMES as KEYWORDS_RETIRED_NAMES
from worker.pipeline.keywords import extract_keywords, topics
from worker.pipeline.mentioned_dates import ENRICHER as DATES
from worker.pipeline.mentioned_dates import extract_mentioned_dates
from worker.pipeline.model import EnrichedArticle, EnricherResult, ParsedArticle
from worker.pipeline.quotes import ENRICHER as QUOTES
from worker.pipeline.quotes import extract_quotes
from worker.pipeline.sources import ENRICHER as SOURCES
from worker.pipeline.sources import extract_cited_sources

log = logging.getLogger("newsflow.enrich")
RULE_LANGUAGES = ("en", "uk", "ru")

LANGUAGE_ENRICHER = EnricherResult("language.py3langid+cyrillic", "1")
_WORD = re.compile(r"\w+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LETTER = re.compile(r"[^\W\d_]")
_UKRAINIAN_ONLY = re.compile(r"[іїєґІЇЄҐ]")
_RUSSIAN_ONLY = re.compile(r"[ыэъёЫЭЪЁ]")
_CYRILLIC_LANGUAGES = {"uk", "ru", "be", "bg", "mk", "sr", "kk", "ky", "mn"}
# The enrichers read at most this much of a body (~30,000 words; the longest article of the
# eval corpora has 39,000 characters): their time grows with the text, and a body may be
# as large as a request (5 MB). Each keeps at most so many items per article (the corpora's
# most: 332 entity mentions, 260 amounts). What is cut is said in the article's warnings.
MAX_ENRICHED_CHARS = 200_000
MAX_MENTIONS = 5_000
MAX_ITEMS = 1_000


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


def normalised_body_hash(body: str) -> str:
    normalised = " ".join(_WORD.findall(body.casefold()))
    return hashlib.sha256(normalised.encode()).hexdigest()


def enriched_part(body: str) -> str:
    """The start of the body that the enrichers read: all of it up to MAX_ENRICHED_CHARS,
    else cut at the last paragraph, line, sentence or word end in the second half of that."""
    if len(body) <= MAX_ENRICHED_CHARS:
        return body
    for boundary, keep in (("\n\n", 0), ("\n", 0), (". ", 1), (" ", 0)):
        cut = body.rfind(boundary, MAX_ENRICHED_CHARS // 2, MAX_ENRICHED_CHARS)
        if cut >= 0:
            return body[: cut + keep]
    return body[:MAX_ENRICHED_CHARS]


def enrich(article: ParsedArticle) -> EnrichedArticle:
    body = article.body
    language: str | None
    if article.declared_language:
        language, confidence = article.declared_language, 1.0
    else:
        language, confidence = detect_language(" ".join(filter(None, [article.title, body])))
        article.provenance["language"] = "heuristic"
    enriched = EnrichedArticle(
        parsed=article,
        language=language,
        language_confidence=confidence,
        word_count=len(_WORD.findall(body)),
        content_hash=normalised_body_hash(body),
        enrichers=[LANGUAGE_ENRICHER, EnricherResult(*SIMHASH_ENRICHER)],
        simhash=simhash(body),
    )
    if language not in RULE_LANGUAGES:
        return enriched  # the rules and models below know English, Ukrainian and Russian
    lang = str(language)
    full_length, body = len(body), enriched_part(body)  # offsets stay those of the body
    if len(body) < full_length:
        article.warnings.append(
            f"enrichment truncated: the enrichers read the first {len(body):,} of "
            f"{full_length:,} characters of the body"
        )

    def run(
        enricher: tuple[str, str], function: Callable[[], list[Any]], limit: int = MAX_ITEMS
    ) -> list[Any]:
        # one enricher failing on odd input must not cost the article the others
        try:
            result = function()
        except Exception as exc:
            article.warnings.append(f"enricher {enricher[0]} failed: {type(exc).__name__}")
            log.exception("enricher %s failed", enricher[0])
            return []
        enriched.enrichers.append(EnricherResult(*enricher))
        if len(result) > limit:
            article.warnings.append(
                f"enricher {enricher[0]} kept the first {limit:,} of {len(result):,} items"
            )
            return result[:limit]
        return result

    enriched.entities = run(
        ENTITIES_ENRICHER,
        lambda: first_mentions(extract_entities(body, lang), MAX_MENTIONS, article.warnings),
        limit=MAX_MENTIONS,  # entities have at least one mention each: capped by mentions
    )
    people = [
        (mention.start, mention.end, entity.canonical)
        for entity in enriched.entities
        if entity.type == "PER"
        for mention in entity.mentions
    ]
    places = [
        (mention.start, mention.end)
        for entity in enriched.entities
        if entity.type == "LOC"
        for mention in entity.mentions
    ]
    enriched.quotes = run(QUOTES, lambda: extract_quotes(body, lang, people, places))
    person_spans = [(start, end) for start, end, _ in people]
    person_names = {name for _, _, name in people}
    enriched.cited_sources = run(
        SOURCES, lambda: extract_cited_sources(body, lang, person_spans, person_names)
    )
    enriched.mentioned_dates = run(
        DATES, lambda: extract_mentioned_dates(body, lang, article.published_at)
    )
    # dates are not amounts: the spans just found spare the amounts a second date pass
    date_spans = (
        [(d.start, d.end) for d in enriched.mentioned_dates]
        if DATES in [(e.name, e.version) for e in enriched.enrichers]
        else None
    )
    enriched.amounts = run(AMOUNTS, lambda: extract_amounts(body, lang, date_spans))
    headline_and_body = ". ".join(filter(None, [article.title, body]))
    enriched.keywords = run(KEYWORDS, lambda: extract_keywords(headline_and_body, lang))
    enriched.topics = topics(headline_and_body, lang) if enriched.keywords else []
    return enriched


def current_enrichers() -> tuple[dict[str, str], list[str]]:
    """What this code records: every enricher's version by name, and the names every
    article gets whatever its language (for `newsflow reprocess --stale`)."""
    every = [LANGUAGE_ENRICHER, EnricherResult(*SIMHASH_ENRICHER)]
    by_language = [ENTITIES_ENRICHER, QUOTES, SOURCES, AMOUNTS, DATES, KEYWORDS]
    # an enricher renamed since: its old name, with a version no article has, marks the
    # articles it enriched as stale
    retired = dict.fromkeys(KEYWORDS_RETIRED_NAMES, "retired")
    versions = retired | {e.name: e.version for e in every} | dict(by_language)
    return versions, [e.name for e in every]
