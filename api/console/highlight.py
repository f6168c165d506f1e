"""An article's body as HTML with what enrichment found marked at its offsets: entities
(linked to their page), quotes, cited sources, amounts and dates. Offsets are characters
of ``body``, as the document gives them. Spans nest; one that crosses another's end is
split there, so the HTML is always well formed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape

BLOCK_TAGS = {"subheading": "h3", "quote": "blockquote"}


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    css: str
    title: str
    href: str | None = None

    def open(self, link: bool) -> str:
        title = escape(self.title)
        if self.href and link:
            return f'<a class="{self.css}" href="{escape(self.href)}" title="{title}">'
        return f'<span class="{self.css}" title="{title}">'

    def close(self, link: bool) -> str:
        return "</a>" if self.href and link else "</span>"


def spans(document: dict[str, Any]) -> list[Span]:
    found: list[Span] = []
    for entity in document.get("entities") or []:
        href = f"/entities/{quote(entity['key'], safe='')}"
        title = f"{entity['type']}: {entity['canonical']}"
        for mention in entity.get("mentions") or []:
            if mention.get("field", "body") != "body":
                continue  # offsets into the title, not into the body shown here
            css = f"hl ent ent-{entity['type']}"
            found.append(Span(mention["start"], mention["end"], css, title, href))
    for item in document.get("quotes") or []:
        speaker = item.get("speaker") or "unknown speaker"
        found.append(Span(item["start"], item["end"], "hl quote", f"quote by {speaker}"))
    for item in document.get("cited_sources") or []:
        found.append(Span(item["start"], item["end"], "hl cited", f"cites {item['name']}"))
    for item in document.get("amounts") or []:
        what = " ".join(str(p) for p in (item["value"], item.get("unit"), item.get("of")) if p)
        found.append(Span(item["start"], item["end"], "hl amount", what))
    for item in document.get("dates_mentioned") or []:
        found.append(Span(item["start"], item["end"], "hl date", str(item.get("date") or "?")))
    return [span for span in found if 0 <= span.start < span.end]


def render(text: str, offset: int, marks: list[Span]) -> Markup:
    """``text`` (the body from ``offset``) with ``marks`` clipped to it."""
    end_of_text = offset + len(text)
    clipped = [
        Span(
            max(s.start, offset) - offset, min(s.end, end_of_text) - offset, s.css, s.title, s.href
        )
        for s in marks
        if s.start < end_of_text and s.end > offset
    ]
    starting: dict[int, list[Span]] = defaultdict(list)
    for span in clipped:
        starting[span.start].append(span)
    points = sorted({0, len(text)} | {s.start for s in clipped} | {s.end for s in clipped})
    out: list[str] = []
    stack: list[tuple[Span, bool]] = []  # open spans, and whether each is a link
    for index, point in enumerate(points):
        reopen: list[Span] = []
        ending = [i for i, (span, _) in enumerate(stack) if span.end <= point]
        if ending:
            # close down to the outermost span that ends here; reopen those that go on
            for span, link in reversed(stack[ending[0] :]):
                out.append(span.close(link))
                if span.end > point:
                    reopen.append(span)
            del stack[ending[0] :]
        for span in sorted(reopen + starting.get(point, []), key=lambda s: -s.end):
            link = span.href is not None and not any(is_link for _, is_link in stack)
            out.append(span.open(link))
            stack.append((span, link))
        if index + 1 < len(points):
            out.append(str(escape(text[point : points[index + 1]])))
    return Markup("".join(out))


def body_html(document: dict[str, Any]) -> Markup:
    """The body, block by block (paragraphs, subheadings, quotes, lists, captions)."""
    body = document.get("body") or ""
    marks = spans(document)
    blocks = document.get("blocks") or [{"kind": "paragraph", "start": 0, "end": len(body)}]
    parts = []
    for block in blocks:
        tag = BLOCK_TAGS.get(block["kind"], "p")
        inner = render(body[block["start"] : block["end"]], block["start"], marks)
        parts.append(f'<{tag} class="block block-{block["kind"]}">{inner}</{tag}>')
    return Markup("\n".join(parts))
