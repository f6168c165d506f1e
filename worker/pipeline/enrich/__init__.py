"""enrich(ParsedArticle) -> EnrichedArticle, by the enrichers in ENRICHERS, in order (a
later one may read what an earlier one wrote). Each is recorded on the article with its
name and version; one that fails is recorded as a warning and costs the article nothing
else. Adding an enricher: a module with its ENRICHER, and a line below."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

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
# The enrichers read at most this much of a body (~30,000 words; the longest article of the
# eval corpora has 39,000 characters): their time grows with the text, and a body may be
# as large as a request (5 MB). Each keeps at most so many items per article (the corpora's
# most: 260 amounts). What is cut is said in the article's warnings.
MAX_ENRICHED_CHARS = 200_000
MAX_ITEMS = 1_000


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


def enrich(
    article: ParsedArticle,
    enrichers: tuple[Enricher, ...] = ENRICHERS,
    observe: Callable[[str, str | None, float], None] | None = None,
) -> EnrichedArticle:
    """``observe(enricher name, article language, seconds)`` is told each enricher's time
    (the worker's metrics; the pipeline itself stays free of them)."""
    body = article.body
    enriched = EnrichedArticle(
        parsed=article,
        language=None,
        language_confidence=None,
        word_count=len(_WORD.findall(body)),
        content_hash=duplicates.normalised_body_hash(body),
        enrichers=[],
        text=enriched_part(body),
    )
    if len(enriched.text) < len(body):
        article.warnings.append(
            f"enrichment truncated: the enrichers read the first {len(enriched.text):,} of "
            f"{len(body):,} characters of the body"
        )
    for enricher in enrichers:
        if enricher.languages is not None and enriched.language not in enricher.languages:
            continue
        # one enricher failing on odd input must not cost the article the others
        started = time.perf_counter()
        try:
            enricher.apply(enriched)
        except Exception as exc:
            article.warnings.append(f"enricher {enricher.name} failed: {type(exc).__name__}")
            log.exception("enricher %s failed", enricher.name)
            continue
        finally:
            if observe is not None:
                observe(enricher.name, enriched.language, time.perf_counter() - started)
        enriched.enrichers.append(EnricherResult(enricher.name, enricher.version))
        if enricher.results is not None:
            items = getattr(enriched, enricher.results)
            if len(items) > MAX_ITEMS:
                article.warnings.append(
                    f"enricher {enricher.name} kept the first {MAX_ITEMS:,} of {len(items):,} items"
                )
                setattr(enriched, enricher.results, list(items[:MAX_ITEMS]))
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
