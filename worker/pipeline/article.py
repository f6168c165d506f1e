"""The plain data passed between stages: a parsed article, the same article enriched, and
what the task message says about its submission."""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from newsflow.contract import (
    AmountRecord,
    BlockKind,
    CitedSourceRecord,
    DateMentionRecord,
    EntityRecord,
    KeywordRecord,
    QuoteRecord,
)


@dataclass(frozen=True)
class PageFacts:
    """What a page says of itself (title, authors, date), read before its text."""

    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None


class ParseError(ValueError):
    """The submission cannot become an article (no text found, unreadable input).
    ``page``: what the page said of itself, when it was readable HTML without article text
    (the failure's reason names it, so the failed submission can still be recognised)."""

    def __init__(self, reason: str, page: PageFacts | None = None) -> None:
        super().__init__(reason)
        self.page = page


@dataclass(frozen=True)
class TextBlock:
    kind: BlockKind
    text: str


@dataclass(frozen=True)
class ImageRef:
    caption: str | None
    credit: str | None = None
    url: str | None = None
    # who the caption shows and what they are ("Minister of Foreign Affairs of Lithuania")
    people: list[str] = field(default_factory=list)
    role: str | None = None


@dataclass
class ParsedArticle:
    blocks: list[TextBlock]
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    modified_at: datetime | None = None
    tags: list[str] = field(default_factory=list)
    url: str | None = None
    site: str | None = None
    images: list[ImageRef] = field(default_factory=list)
    alternates: list[str] = field(default_factory=list)
    declared_language: str | None = None
    # where each metadata field came from: sender, json-ld/meta (via trafilatura), heuristic
    provenance: dict[str, str] = field(default_factory=dict)
    # plain-text lines kept out of the body: "By Jane Doe", "KYIV, Nov 24 (Reuters)",
    # "Джерело: Укрінформ"
    byline: str | None = None
    dateline: str | None = None
    source_line: str | None = None
    # what the parser had to guess around or repair (control characters, huge lines)
    warnings: list[str] = field(default_factory=list)

    @property
    def body(self) -> str:
        return "\n\n".join(block.text for block in self.blocks)

    def offsets(self) -> list[tuple[int, int]]:
        """Character offsets of each block in ``body``."""
        spans, position = [], 0
        for block in self.blocks:
            spans.append((position, position + len(block.text)))
            position += len(block.text) + 2
        return spans

    @property
    def lead(self) -> str | None:
        return next((b.text for b in self.blocks if b.kind == "paragraph"), None)


@dataclass(frozen=True)
class EnricherResult:
    name: str
    version: str


@dataclass
class EnrichedArticle:
    parsed: ParsedArticle
    language: str | None
    language_confidence: float | None
    word_count: int
    content_hash: str
    enrichers: list[EnricherResult]
    # each enricher's results, as the stored document has them (offsets into parsed.body)
    entities: list[EntityRecord] = field(default_factory=list)
    quotes: Sequence[QuoteRecord] = field(default_factory=list)
    cited_sources: list[CitedSourceRecord] = field(default_factory=list)
    amounts: list[AmountRecord] = field(default_factory=list)
    mentioned_dates: list[DateMentionRecord] = field(default_factory=list)
    keywords: list[KeywordRecord] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    simhash: int = 0  # duplicates.simhash of the body: near-duplicates differ in few bits
    # what the enrichers read: the body, or its start when the body is longer than they
    # read (see enrich.enriched_part); offsets into it are offsets into the body
    text: str = ""

    def mentions(self, entity_type: str) -> list[tuple[int, int, str]]:
        """(start, end, canonical name) of every body mention of an entity of this type."""
        return [
            (mention.start, mention.end, entity.canonical)
            for entity in self.entities
            if entity.type == entity_type
            for mention in entity.mentions
            if mention.field == "body"
        ]


@dataclass(frozen=True)
class SubmissionInfo:
    """What the message says about the submission itself (not its content)."""

    id: uuid.UUID
    source: str
    external_id: str | None
    received_at: datetime


def overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether [start, end) overlaps one of ``spans`` (sorted by start; none of them more
    than 8 deep in overlap)."""
    index = bisect.bisect_left(spans, (end, end))
    return any(s < end and start < e for s, e in spans[max(0, index - 8) : index])
