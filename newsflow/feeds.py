"""RSS 0.9x, 1.0 (RDF), 2.0 and Atom documents -> one submission per item, with
feedparser. Pure: bytes in, dicts out.

A feed that is not well-formed (a bare `&`, an undeclared entity) is read by feedparser's
lenient parser and its problem reported, not refused. What stays refused, before
feedparser sees the document: entity declarations that could expand (the "billion
laughs" bomb) or load anything (external entities), and more than MAX_ITEMS items. The
size is bounded by whoever hands the bytes over (the API's body limit, the fetcher's).

An item with a link becomes a `url` submission: the worker fetches the page, and the
feed's own content (summary or full content) travels in ``metadata.feed`` as the article
to fall back on when the page cannot be had (worker/process.py)."""

from __future__ import annotations

import re
import time
from calendar import timegm
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser
import lxml.html
from feedparser.datetimes import _parse_date as feedparser_date

from newsflow.dates import parse_iso, published_or_none

MAX_ITEMS = 1000
_LOOKS_LIKE_HTML = ("<p", "<div", "<br", "<a ", "<img", "<h1", "<h2", "<ul", "<figure")
_HAS_TAG = re.compile(r"<[a-zA-Z/][^>]*>")
# An item's date that cannot be used (unreadable, or out of newsflow/dates.py's range) is
# not guessed at: the item is accepted without published_at and keeps the date as the feed
# gave it in its metadata, under this key (api/feeds.py says so in the item's result).
UNUSABLE_DATE = "feed_unusable_date"
# metadata key of what the feed said about the item beyond the submission's own fields
FEED = "feed"

# Only declarations whose value is character references are harmless (feedparser keeps
# those); any other <!ENTITY> (nested references, SYSTEM, PUBLIC, parameter entities) is
# refused. The prolog is everything before the first element that is not a declaration.
_PROLOG = re.compile(rb"^(?:\s|<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>)*", re.S)
_ENTITY = re.compile(rb"<!ENTITY\s+(%\s*)?[^\s>]+\s+(\"[^\"]*\"|'[^']*'|[^>]*)\s*>", re.S)
_CHARACTER_REFERENCES = re.compile(rb"^[\"'](?:&#[0-9]+;|&#x[0-9a-fA-F]+;|[^&%<])*[\"']$")


class FeedError(ValueError):
    """Not an RSS or Atom document, or one refused (entity declarations, too many items)."""


@dataclass(frozen=True)
class ParsedFeed:
    items: list[dict[str, Any]]  # submission bodies, as POST /v1/articles takes them
    title: str | None
    # why the document is not well-formed, when it was read leniently anyway
    problem: str | None


def parse_feed(document: bytes, source: str, language: str | None = None) -> ParsedFeed:
    """The feed's items as submission bodies, in feed order; ``language``: a hint for
    items (the submission's declared language), as a source may give."""
    _refuse_entity_declarations(document)
    parsed = feedparser.parse(document, sanitize_html=True, resolve_relative_uris=True)
    problem = _problem(parsed)
    if not parsed.get("version"):
        if problem and not parsed.entries:
            raise FeedError(f"not well-formed XML ({problem}), and no feed found")
        raise FeedError("expected an RSS or Atom document (no <rss>, <rdf:RDF> or <feed>)")
    if len(parsed.entries) > MAX_ITEMS:
        raise FeedError(f"{len(parsed.entries)} items; at most {MAX_ITEMS} per request")
    items = [_item(entry, source, language) for entry in parsed.entries]
    return ParsedFeed(items, parsed.feed.get("title") or None, problem)


def _refuse_entity_declarations(document: bytes) -> None:
    prolog = _PROLOG.match(document)
    head = prolog.group(0) if prolog else b""
    for declaration in re.finditer(rb"<!ENTITY", head):
        match = _ENTITY.match(head, declaration.start())
        if match is None or match.group(1) or not _CHARACTER_REFERENCES.match(match.group(2)):
            raise FeedError(
                "the document declares XML entities that expand or load other content "
                "(<!ENTITY>): refused, as entity expansion is how XML bombs work"
            )


def _problem(parsed: Any) -> str | None:
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    # feedparser's own notes that are no fault of the document's XML
    if isinstance(exc, feedparser.CharacterEncodingOverride | feedparser.NonXMLContentType):
        return None
    return f"{type(exc).__name__}: {exc}"


def _item(entry: Any, source: str, language: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {"source": source}
    url = _http_link(entry)
    external_id = entry.get("id") or url
    if external_id:
        item["external_id"] = str(external_id)[:500]
    if title := _clean(entry.get("title")):
        item["title"] = title[:2000]
    if language:
        item["language"] = language
    metadata: dict[str, Any] = {}
    raw_date = entry.get("published") or entry.get("updated")
    if raw_date:
        if published := _date(raw_date):
            item["published_at"] = published.isoformat()
        else:
            metadata[UNUSABLE_DATE] = raw_date
    if authors := _authors(entry):
        item["authors"] = authors
    feed: dict[str, Any] = {}
    content = _content(entry)
    if url:
        item["url"] = url  # no content: the worker fetches the page
        if content:
            feed["content"] = content  # the article to fall back on
    else:
        item.update(content)
    if enclosures := _enclosures(entry):
        feed["enclosures"] = enclosures
    if categories := [t["term"] for t in entry.get("tags", []) if t.get("term")]:
        feed["categories"] = categories[:100]
    if feed:
        metadata[FEED] = feed
    if metadata:
        item["metadata"] = metadata
    return item


def _clean(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _http_link(entry: Any) -> str | None:
    link = _clean(entry.get("link"))
    if link is None or not link.startswith(("http://", "https://")):
        return None
    return link


def _authors(entry: Any) -> list[str]:
    names = [_clean(a.get("name")) for a in entry.get("authors", []) if isinstance(a, dict)]
    found = [name for name in names if name]
    if not found and (author := _clean(entry.get("author"))):
        found = [author]
    return list(dict.fromkeys(name[:500] for name in found))[:100]


def _content(entry: Any) -> dict[str, str]:
    """Full content (content:encoded, Atom <content>, xhtml included) over the summary; as
    `html` when it has block markup, else as `text` (inline tags taken off)."""
    candidates = [c for c in entry.get("content", []) if c.get("value")]
    raw = _clean(candidates[0]["value"]) if candidates else _clean(entry.get("summary"))
    if not raw:
        return {}
    if any(tag in raw.lower() for tag in _LOOKS_LIKE_HTML):
        return {"html": raw}
    if _HAS_TAG.search(raw):
        raw = lxml.html.fromstring(f"<div>{raw}</div>").text_content().strip()
    return {"text": raw} if raw else {}


def _enclosures(entry: Any) -> list[dict[str, Any]]:
    found = []
    for enclosure in entry.get("enclosures", [])[:20]:
        href = enclosure.get("href")
        if not href:
            continue
        one: dict[str, Any] = {"url": href}
        if enclosure.get("type"):
            one["type"] = enclosure["type"]
        length = str(enclosure.get("length", "")).strip()
        if length.isdigit():
            one["length"] = int(length)
        found.append(one)
    return found


def _date(value: str) -> datetime | None:
    """An item's date, if it is one newsflow keeps: RFC 822 or ISO 8601 with its own
    offset; else feedparser's handlers (localised day and month names, W3DTF, Korean,
    Greek, Hungarian...), which give UTC."""
    parsed: datetime | None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        try:
            parsed = parse_iso(value)
        except ValueError:
            parsed = _feedparser_date(value)
    return published_or_none(parsed)


def _feedparser_date(value: str) -> datetime | None:
    found: time.struct_time | None = feedparser_date(value)
    if found is None:
        return None
    try:
        return datetime.fromtimestamp(timegm(found), UTC)
    except (OverflowError, OSError, ValueError):
        return None
