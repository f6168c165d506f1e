"""persist(connection, …, EnrichedArticle): the article's one transaction, idempotent on
the submission id. Its SQL lives in newsflow/store/articles.py."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Connection

from newsflow.store import articles
from worker.pipeline.article import EnrichedArticle, SubmissionInfo
from worker.pipeline.document import build_document


def persist(connection: Connection, info: SubmissionInfo, enriched: EnrichedArticle) -> bool:
    """Store the article and mark the submission done. Returns False, writing nothing, when
    another delivery of the same submission already finished it."""
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
    return articles.store_processed_article(connection, row)
