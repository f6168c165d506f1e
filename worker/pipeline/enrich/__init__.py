"""enrich(ParsedArticle) -> EnrichedArticle, by the enrichers in ENRICHERS, in order (a
later one may read what an earlier one wrote). Each is recorded on the article with its
name and version; one that fails is recorded as a warning and costs the article nothing
else. Adding an enricher: a module with its ENRICHER, and a line below."""

from __future__ import annotations

import logging
import re

from worker.pipeline.article import EnrichedArticle, EnricherResult, ParsedArticle
from worker.pipeline.enrich import (
    amounts,
    duplicates,
    entities,
    keywords,
    language,
    mentioned_dates,
    quotes,
    sources,
)
from worker.pipeline.enrich.enricher import Enricher

log = logging.getLogger("newsflow.enrich")

ENRICHERS: tuple[Enricher, ...] = (
    language.ENRICHER,
    duplicates.ENRICHER,
    entities.ENRICHER,
    quotes.ENRICHER,
    sources.ENRICHER,
    mentioned_dates.ENRICHER,
    amounts.ENRICHER,
    keywords.ENRICHER,
)
_WORD = re.compile(r"\w+")


def enrich(article: ParsedArticle, enrichers: tuple[Enricher, ...] = ENRICHERS) -> EnrichedArticle:
    body = article.body
    enriched = EnrichedArticle(
        parsed=article,
        language=None,
        language_confidence=None,
        word_count=len(_WORD.findall(body)),
        content_hash=duplicates.normalised_body_hash(body),
        enrichers=[],
    )
    for enricher in enrichers:
        if enricher.languages is not None and enriched.language not in enricher.languages:
            continue
        # one enricher failing on odd input must not cost the article the others
        try:
            enricher.apply(enriched)
        except Exception as exc:
            article.warnings.append(f"enricher {enricher.name} failed: {type(exc).__name__}")
            log.exception("enricher %s failed", enricher.name)
            continue
        enriched.enrichers.append(EnricherResult(enricher.name, enricher.version))
    return enriched


def current_enrichers(
    enrichers: tuple[Enricher, ...] = ENRICHERS,
) -> tuple[dict[str, str], list[str]]:
    """What this code records: every enricher's version by name, and the names every
    article gets whatever its language (for `newsflow reprocess --stale`)."""
    # an enricher renamed since: its old name, with a version no article has, marks the
    # articles it enriched as stale
    retired = {name: "retired" for e in enrichers for name in e.retired_names}
    versions = retired | {e.name: e.version for e in enrichers}
    return versions, [e.name for e in enrichers if e.languages is None]
