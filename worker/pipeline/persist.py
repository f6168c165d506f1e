"""persist(connection, …, EnrichedArticle): one transaction, idempotent on the submission id."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Connection

from newsflow.contract import (
    FINAL_STATUSES,
    AmountRecord,
    ArticleDocument,
    Block,
    CitedSourceRecord,
    DateMentionRecord,
    EnricherRun,
    EntityMention,
    EntityRecord,
    Image,
    KeywordRecord,
    Links,
    QuoteRecord,
    Status,
    article_url,
)
from newsflow.store import articles, submissions
from newsflow.store.db import driver_connection
from worker.pipeline.model import EnrichedArticle


@dataclass(frozen=True)
class SubmissionInfo:
    """What the message says about the submission itself (not its content)."""

    id: uuid.UUID
    source: str
    external_id: str | None
    received_at: datetime


def build_document(
    info: SubmissionInfo, enriched: EnrichedArticle, processed_at: datetime
) -> ArticleDocument:
    parsed = enriched.parsed
    blocks = [
        Block(kind=block.kind, text=block.text, start=start, end=end)
        for block, (start, end) in zip(parsed.blocks, parsed.offsets(), strict=True)
    ]
    return ArticleDocument(
        id=info.id,
        status=Status.done,
        links=Links(self=article_url("", info.id)),
        source=info.source,
        external_id=info.external_id,
        url=parsed.url,
        received_at=info.received_at,
        processed_at=processed_at,
        title=parsed.title,
        lead=parsed.lead,
        body=parsed.body,
        blocks=blocks,
        images=[
            Image(url=i.url, caption=i.caption, credit=i.credit, people=i.people, role=i.role)
            for i in parsed.images
        ],
        word_count=enriched.word_count,
        content_hash=enriched.content_hash,
        language=enriched.language,
        language_confidence=enriched.language_confidence,
        published_at=parsed.published_at,
        modified_at=parsed.modified_at,
        tags=parsed.tags,
        authors=parsed.authors,
        site=parsed.site,
        alternates=parsed.alternates,
        byline=parsed.byline,
        dateline=parsed.dateline,
        source_line=parsed.source_line,
        provenance=parsed.provenance,
        warnings=parsed.warnings,
        entities=[
            EntityRecord(
                key=e.key,
                type=e.type,
                canonical=e.canonical,
                country_code=e.country_code,
                mentions=[EntityMention(start=m.start, end=m.end, text=m.text) for m in e.mentions],
            )
            for e in enriched.entities
        ],
        quotes=[
            QuoteRecord(
                text=q.text,
                start=q.start,
                end=q.end,
                speaker=q.speaker,
                speaker_role=q.speaker_role,
            )
            for q in enriched.quotes
        ],
        cited_sources=[
            CitedSourceRecord(name=c.name, cue=c.cue, start=c.start, end=c.end)
            for c in enriched.cited_sources
        ],
        amounts=[
            AmountRecord(value=a.value, unit=a.unit, of=a.of, text=a.text, start=a.start, end=a.end)
            for a in enriched.amounts
        ],
        dates_mentioned=[
            DateMentionRecord(
                text=d.text, start=d.start, end=d.end, date=d.date, resolved=d.resolved
            )
            for d in enriched.mentioned_dates
        ],
        keywords=[KeywordRecord(text=k.text, score=k.score) for k in enriched.keywords],
        topics=enriched.topics,
        enrichers=[EnricherRun(name=e.name, version=e.version) for e in enriched.enrichers],
    )


def persist(connection: Connection, info: SubmissionInfo, enriched: EnrichedArticle) -> bool:
    """Store the article and mark the submission done. Returns False, writing nothing, when
    another delivery of the same submission already finished it.

    Two round trips: lock the submission row (a concurrent copy of the task waits here, then
    sees the first one's result), then every write in one pipeline: the article row, and
    its child rows replaced in bulk (see newsflow/store/articles.py)."""
    pg = driver_connection(connection)
    key = {"id": info.id}
    with pg.cursor() as cursor:
        locked = cursor.execute(submissions.LOCK_STATUS, key).fetchone()
        if locked is None:
            raise LookupError(f"submission {info.id} was never landed")
        if Status(locked[0]) in FINAL_STATUSES:
            return False
    document = build_document(info, enriched, processed_at=datetime.now(UTC))
    row = {
        "id": info.id,
        "source": info.source,
        "external_id": info.external_id,
        "url": document.url,
        "title": document.title,
        "lead": document.lead,
        "body": document.body,
        "language": document.language,
        "language_confidence": document.language_confidence,
        "published_at": document.published_at,
        "authors": document.authors,
        "site": document.site,
        "word_count": document.word_count,
        "content_hash": document.content_hash,
        "simhash": enriched.simhash,
        "document": document.model_dump_json(),
        "processed_at": document.processed_at,
        "keywords": [k.text for k in document.keywords],
        "topics": document.topics,
    }
    with pg.pipeline(), pg.cursor() as cursor:
        articles.write_article(cursor, row)
        cursor.execute(submissions.FINISH, {**key, "status": "done", "error": None})
    return True
