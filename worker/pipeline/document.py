"""EnrichedArticle -> ArticleDocument: what consumers read. Pure: no I/O."""

from __future__ import annotations

from datetime import datetime

from newsflow.contract import (
    ArticleDocument,
    Block,
    EnricherRun,
    Image,
    Links,
    Status,
    article_url,
)
from worker.pipeline.article import EnrichedArticle, SubmissionInfo


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
        entities=enriched.entities,
        quotes=list(enriched.quotes),
        cited_sources=enriched.cited_sources,
        amounts=enriched.amounts,
        dates_mentioned=enriched.mentioned_dates,
        keywords=enriched.keywords,
        topics=enriched.topics,
        enrichers=[EnricherRun(name=e.name, version=e.version) for e in enriched.enrichers],
    )
