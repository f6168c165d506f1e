"""HTML pages: main text and metadata through trafilatura (dates through htmldate)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import trafilatura
from htmldate import find_date
from trafilatura.settings import Document

from worker.pipeline.model import ImageRef, ParsedArticle, ParseError, TextBlock


def parse_html(html: str, url: str | None = None) -> ParsedArticle:
    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
    )
    if not isinstance(document, Document) or not (document.text or "").strip():
        raise ParseError("no article text found in the HTML")
    text = document.text or ""
    blocks = [TextBlock("paragraph", line.strip()) for line in text.split("\n") if line.strip()]
    provenance = {}
    title = document.title or None
    if title:
        provenance["title"] = "meta"
    authors = [a.strip() for a in re.split(r";|\band\b", document.author or "") if a.strip()]
    if authors:
        provenance["authors"] = "meta"
    published_at = _as_datetime(document.date) or _as_datetime(
        find_date(html, url=url, original_date=True, extensive_search=False)
    )
    if published_at:
        provenance["published_at"] = "meta"
    return ParsedArticle(
        blocks=blocks,
        title=title,
        authors=authors,
        published_at=published_at,
        url=document.url or url,
        site=document.sitename or document.hostname or None,
        images=[ImageRef(caption=None, url=document.image)] if document.image else [],
        provenance=provenance,
    )


def _as_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
