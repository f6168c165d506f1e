"""Plain text scraped from a page, furniture and all: label each line by its role (language
switcher, navigation, title, caption, byline, dateline, subheading, lead, paragraph, quote,
list, source line) and build the article from the labels. No extractor handles text, so
this one is our own.

Every check works on one line at a time with anchored, bounded patterns, and lines longer
than ``_MAX_FURNITURE_CHARS`` are body text without further checks, so the time is linear in
the size of the input whatever it holds."""

from __future__ import annotations

from newsflow.contract import BlockKind
from worker.pipeline.article import ParsedArticle, ParseError, TextBlock
from worker.pipeline.lang.switcher import language_switcher
from worker.pipeline.parse.text.bylines import add_byline, add_dateline
from worker.pipeline.parse.text.captions import split_caption
from worker.pipeline.parse.text.classifier import LabelledLine, Role, label

_BLOCK_KINDS: dict[str, BlockKind] = {
    "subheading": "subheading",
    "lead": "paragraph",
    "paragraph": "paragraph",
    "quote": "quote",
    "list": "list",
}


def label_lines(text: str, title: str | None = None) -> list[LabelledLine]:
    """Each line of the text with its role, in order (a line may give two labels, e.g. the
    dateline and the lead of "KYIV, Nov 24 (Reuters) - Ukraine said …")."""
    return label(text, title).lines


def parse_text(text: str, title: str | None = None) -> ParsedArticle:
    labels = label(text, title)
    article = ParsedArticle(blocks=[], title=title, warnings=labels.warnings)
    previous_role: Role | None = None
    for line in labels.lines:
        role = line.role
        if role == "switcher":
            found = language_switcher(line.text) or []
            article.alternates.extend(code for code in found if code not in article.alternates)
        elif role == "title":
            article.title = line.text
            article.provenance["title"] = "heuristic"
        elif role == "byline":
            add_byline(article, line.text)
        elif role == "dateline":
            add_dateline(article, line.text)
        elif role == "source":
            article.source_line = article.source_line or line.text
        elif role == "caption":
            article.images.append(split_caption(line.text))
            article.blocks.append(TextBlock("caption", line.text))
        elif role == "list" and previous_role == "list" and article.blocks:
            # Consecutive items are one list; keep each item on its own line.
            article.blocks[-1] = TextBlock("list", f"{article.blocks[-1].text}\n{line.text}")
        elif role in _BLOCK_KINDS:
            article.blocks.append(TextBlock(_BLOCK_KINDS[role], line.text))
        if role != "navigation":
            previous_role = role
    if not any(block.kind != "caption" for block in article.blocks):
        if article.title:
            raise ParseError("the text has a title but no paragraphs")
        raise ParseError("the text has no article paragraphs, only page furniture")
    return article
