"""What an enricher is: a name and a version recorded on every article it enriched, the
languages it knows, and the function that adds its results to the article."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from worker.pipeline.article import EnrichedArticle

# the languages the rules and models know
RULE_LANGUAGES = frozenset({"en", "uk", "ru"})


@dataclass(frozen=True)
class Enricher:
    name: str
    version: str
    # writes its results onto the article; may read what earlier enrichers wrote
    apply: Callable[[EnrichedArticle], None]
    languages: frozenset[str] | None = RULE_LANGUAGES  # None: every article, any language
    # names it had before a rename: `newsflow reprocess --stale` treats articles enriched
    # under them as stale
    retired_names: tuple[str, ...] = ()
    # the article's field its results go in, when an article keeps at most so many of them
    results: str | None = None


def ran(article: EnrichedArticle, enricher: Enricher) -> bool:
    """Whether ``enricher`` ran on ``article`` without failing."""
    return any(e.name == enricher.name for e in article.enrichers)
