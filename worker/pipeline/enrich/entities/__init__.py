"""Named entities (PER / ORG / LOC and spaCy's extra types) for English, Ukrainian, Russian.

English: spaCy en_core_web_sm. Russian: natasha (slovnet). Ukrainian has no offline
statistical model, so natasha's Russian model proposes spans that are then cut at line
breaks, re-typed with the Ukrainian pymorphy3 dictionary (Name/Surn tags) and the
gazetteer, and completed with rules (legal-form companies, acronyms, regions).
Every entity gets a nominative canonical form and a key that is the same across languages
for countries, gazetteer places and organisations, and persons (a phonetic skeleton of the
Latin transliteration).

Models load once per process on first use (lazy singletons); importing sets nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from newsflow.contract import EntityMention, EntityRecord
from worker.pipeline.article import EnrichedArticle
from worker.pipeline.enrich.enricher import Enricher
from worker.pipeline.enrich.entities.canonical import canonical_form
from worker.pipeline.enrich.entities.gazetteer import first_words, gazetteer_index
from worker.pipeline.enrich.entities.keys import skeleton
from worker.pipeline.enrich.entities.merge import entity_spans
from worker.pipeline.enrich.entities.models import natasha_tagger, spacy_pipeline
from worker.pipeline.lang.morphology import analyzer
from worker.pipeline.lang.names import is_name_particle

SUPPORTED_LANGUAGES: Final = frozenset({"en", "uk", "ru"})


def load_models(languages: Iterable[str] = ("en", "uk", "ru")) -> None:
    """Warm the models up front (worker start), so the first task does not pay for it."""
    for language in languages:
        if language == "en":
            spacy_pipeline()
        elif language in ("uk", "ru"):
            natasha_tagger()
            analyzer(language)
        if language in SUPPORTED_LANGUAGES:
            gazetteer_index(language)
            first_words(language)


# between the title and the body when both are read as one text: the models see the title
# as a line of its own, and no span runs over a blank line
_TITLE_SEPARATOR: Final = "\n\n"


def extract_entities(
    text: str, language: str | None, title: str | None = None
) -> list[EntityRecord]:
    """Entities of one text (the body) and its title, each with all its mentions, title
    mentions first (offsets into the title), then body mentions in order."""
    title = title.strip() if title else ""
    # title and body are read as one text, so that a name of the headline and its later
    # mentions in the body are one entity
    joined = f"{title}{_TITLE_SEPARATOR}{text}" if title else text
    if not joined.strip() or language not in SUPPORTED_LANGUAGES:
        return []
    body_at = len(title) + len(_TITLE_SEPARATOR) if title else 0
    groups: dict[str, list[Any]] = {}
    persons: list[tuple[str, list[str]]] = []
    for span in entity_spans(joined, language):
        if span.start < body_at <= span.end:
            continue  # over the separator: neither in the title nor in the body
        canonical, key, code = canonical_form(span, joined, language)
        surface = joined[span.start : span.end]
        if span.start < body_at:
            mention = EntityMention(start=span.start, end=span.end, text=surface, field="title")
        else:
            start, end = span.start - body_at, span.end - body_at
            mention = EntityMention(start=start, end=end, text=surface)
        groups.setdefault(key, [span.type, canonical, code, []])[3].append(mention)
        if span.type == "PER":
            persons.append((key, canonical.split()))
    _merge_surname_mentions(groups, persons)
    _merge_short_organisation_mentions(groups)
    entities = [
        EntityRecord(
            key=key,
            type=kind,
            canonical=canonical,
            country_code=code,
            mentions=sorted(mentions, key=_mention_order),
        )
        for key, (kind, canonical, code, mentions) in groups.items()
    ]
    return sorted(entities, key=lambda e: _mention_order(e.mentions[0]))


def _mention_order(mention: EntityMention) -> tuple[bool, int]:
    return mention.field == "body", mention.start


# at most this many mentions an article (the eval corpora's most: 332)
MAX_MENTIONS = 5_000


def _apply(article: EnrichedArticle) -> None:
    entities = extract_entities(article.text, article.language, article.parsed.title)
    article.entities = first_mentions(entities, MAX_MENTIONS, article.parsed.warnings)


def first_mentions(
    entities: list[EntityRecord], limit: int, warnings: list[str]
) -> list[EntityRecord]:
    """The entities of the text's first ``limit`` mentions, with only those mentions (and a
    warning saying so when there were more)."""
    ordered = sorted(
        (*_mention_order(m), m.end, i) for i, e in enumerate(entities) for m in e.mentions
    )
    if len(ordered) <= limit:
        return entities
    warnings.append(f"enricher entities kept the first {limit:,} of {len(ordered):,} mentions")
    kept = set(ordered[:limit])
    capped = []
    for index, entity in enumerate(entities):
        mentions = [m for m in entity.mentions if (*_mention_order(m), m.end, index) in kept]
        if mentions:
            capped.append(entity.model_copy(update={"mentions": mentions}))
    return capped


ENRICHER = Enricher(
    "entities",
    "5:spacy-3.8+en_core_web_sm-3.8.0;natasha-1.6.0;pymorphy3-2.0.6-uk-ru;gazetteer-2",
    _apply,
)


def _merge_surname_mentions(
    groups: dict[str, list[Any]], persons: list[tuple[str, list[str]]]
) -> None:
    """A lone surname ("Landsbergis", "von der Leyen") joins the full name it ends
    ("Gabrielius Landsbergis", "Ursula von der Leyen")."""
    full_names: dict[str, str] = {}
    for key, tokens in persons:
        if len(tokens) >= 2 and not is_name_particle(tokens[0]):
            full_names.setdefault(skeleton(tokens[-1]), key)
    for key, tokens in persons:
        surname_only = len(tokens) == 1 or all(is_name_particle(t) for t in tokens[:-1])
        if not surname_only or key not in groups:
            continue
        target = full_names.get(skeleton(tokens[-1]))
        if target is not None and target != key and target in groups:
            groups[target][3].extend(groups.pop(key)[3])


def _merge_short_organisation_mentions(groups: dict[str, list[Any]]) -> None:
    """A one-word organisation ("Commission President ...") joins the one longer
    organisation of the text whose name ends in that word ("European Commission")."""
    endings: dict[str, list[str]] = {}
    for key, (kind, canonical, _, _) in groups.items():
        words = canonical.split()
        if kind == "ORG" and len(words) >= 2:
            endings.setdefault(words[-1].casefold(), []).append(key)
    for key, (kind, canonical, _, _) in list(groups.items()):
        targets = endings.get(canonical.casefold(), [])
        if kind == "ORG" and " " not in canonical and len(targets) == 1:
            groups[targets[0]][3].extend(groups.pop(key)[3])
