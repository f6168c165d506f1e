"""persist(connection, …, EnrichedArticle): the article's one transaction, idempotent on
the submission id. Its SQL lives in newsflow/store/articles.py (versions) and
newsflow/store/duplicates.py (duplicates found at ingest)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy.engine import Connection

from newsflow.contract import Links, NearDuplicate, article_url
from newsflow.store import articles, duplicates
from worker.pipeline.article import EnrichedArticle, SubmissionInfo
from worker.pipeline.document import build_document
from worker.pipeline.enrich.duplicates import canonical_url


def persist(
    connection: Connection,
    info: SubmissionInfo,
    enriched: EnrichedArticle,
    claim: articles.Claim | None = None,
) -> articles.Placement | None:
    """Store the article (a new one, a new version of one, a past version, or nothing for
    the same content again) and mark the submission done. Returns where it went, or None,
    writing nothing, when another delivery of the same submission already finished it.
    Without ``claim`` (what intake said the submission is), it is a first version."""
    if claim is None:
        claim = articles.Claim(info.id, None, info.source, info.external_id, "", info.received_at)
    processed_at = datetime.now(UTC)
    canonical = canonical_url(enriched.parsed.url)

    def find(cursor: psycopg.Cursor[Any], article_id: uuid.UUID) -> list[duplicates.Found]:
        return duplicates.find_at_ingest(
            cursor,
            article_id,
            enriched.content_hash,
            canonical,
            enriched.simhash,
            enriched.language,
        )

    def build_row(
        placement: articles.Placement, found: Sequence[duplicates.Found]
    ) -> dict[str, Any]:
        exact = [f.id for f in found if f.kind != "near"]
        document = build_document(info, enriched, processed_at=processed_at).model_copy(
            update={
                "id": placement.article_id,
                "links": Links(self=article_url("", placement.article_id)),
                "version": placement.version,
                "canonical_url": canonical,
                "duplicate_of": min(exact) if exact else None,
                "near_duplicates": [
                    NearDuplicate(id=f.id, distance=f.distance) for f in found if f.kind == "near"
                ],
            }
        )
        return {
            "id": placement.article_id,
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
            "owner": claim.owner,
            "version": placement.version,
            "canonical_url": canonical,
        }

    return articles.store_processed_article(connection, claim, build_row, find)
