"""RSS 2.0 and Atom documents -> one submission per item. Pure: bytes in, dicts out.

The XML parser resolves no entities, loads nothing from the network and refuses huge
trees, so a hostile feed costs no more than its (size-limited) body."""

from __future__ import annotations

import html
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from lxml import etree

from newsflow.dates import parse_iso, published_or_none

MAX_ITEMS = 1000
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True
)
_ATOM = "{http://www.w3.org/2005/Atom}"
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
_DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
_DC_DATE = "{http://purl.org/dc/elements/1.1/}date"
_LOOKS_LIKE_HTML = ("<p", "<div", "<br", "<a ", "<img", "<h1", "<h2", "<ul", "<figure")
# An item's date that cannot be used (unreadable, or out of newsflow/dates.py's range) is
# not guessed at: the item is accepted without published_at and keeps the date as the feed
# gave it in its metadata, under this key (api/feeds.py says so in the item's result).
UNUSABLE_DATE = "feed_unusable_date"


class FeedError(ValueError):
    """Not an RSS or Atom document."""


def parse_feed(document: bytes, source: str) -> list[dict[str, Any]]:
    """Submission bodies (as POST /v1/articles takes them), one per item, in feed order."""
    try:
        root = etree.fromstring(document, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"not well-formed XML: {exc}") from None
    if root.tag == "rss" or root.tag.endswith("RDF"):
        items = [_rss_item(item, source) for item in root.iter("item", "{*}item")]
    elif root.tag == f"{_ATOM}feed":
        items = [_atom_entry(entry, source) for entry in root.iter(f"{_ATOM}entry")]
    else:
        raise FeedError(f"expected an RSS or Atom document, found <{etree.QName(root).localname}>")
    if len(items) > MAX_ITEMS:
        raise FeedError(f"{len(items)} items; at most {MAX_ITEMS} per request")
    return items


def _text(element: Any, *paths: str) -> str | None:
    for path in paths:
        found = element.find(path)
        if found is not None and (text := _all_text(found).strip()):
            return text
    return None


def _all_text(element: Any) -> str:
    """The whole text of an element. Entities are not resolved (see _PARSER): one a DTD
    declares ("&eacute;" under RSS 0.91's) is a child node, and ``.text`` stops before
    it; HTML's names are decoded, others kept as written. Child elements (Atom's xhtml
    content) give their text."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child, etree._Entity):
            parts.append(html.unescape(str(child.text)))
        else:
            parts.append(_all_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _content(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    return {"html": raw} if any(tag in raw.lower() for tag in _LOOKS_LIKE_HTML) else {"text": raw}


def _item(
    source: str,
    *,
    external_id: str | None,
    url: str | None,
    title: str | None,
    date: str | None,
    author: str | None,
    content: str | None,
) -> dict[str, Any]:
    item: dict[str, Any] = {"source": source, **_content(content)}
    if external_id or url:
        item["external_id"] = (external_id or url or "")[:500]
    if url:
        item["url"] = url
    if title:
        item["title"] = title[:2000]
    if date:
        if published := _date(date):
            item["published_at"] = published.isoformat()
        else:
            item["metadata"] = {UNUSABLE_DATE: date}
    if author:
        item["authors"] = [author]
    return item  # no content at all: the worker fetches `url`


def _rss_item(item: Any, source: str) -> dict[str, Any]:
    return _item(
        source,
        external_id=_text(item, "guid"),
        url=_text(item, "link"),
        title=_text(item, "title"),
        date=_text(item, "pubDate", _DC_DATE),
        author=_text(item, _DC_CREATOR, "author"),
        content=_text(item, _CONTENT, "description"),
    )


def _atom_entry(entry: Any, source: str) -> dict[str, Any]:
    link = None
    for candidate in entry.findall(f"{_ATOM}link"):
        if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
            link = candidate.get("href")
            break
    return _item(
        source,
        external_id=_text(entry, f"{_ATOM}id"),
        url=link,
        title=_text(entry, f"{_ATOM}title"),
        date=_text(entry, f"{_ATOM}published", f"{_ATOM}updated"),
        author=_text(entry, f"{_ATOM}author/{_ATOM}name"),
        content=_text(entry, f"{_ATOM}content", f"{_ATOM}summary"),
    )


def _date(value: str) -> datetime | None:
    """An RSS (RFC 822) or ISO 8601 date, if it is one newsflow keeps."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            parsed = parse_iso(value)
        except ValueError:
            return None
    return published_or_none(parsed)
