"""Plain text scraped from a page, furniture and all: classify each line by its role
(language switcher, title, caption, subheading, paragraph). No extractor handles text,
so this one is our own."""

from __future__ import annotations

import re

from worker.pipeline.model import ImageRef, ParsedArticle, ParseError, TextBlock

# Two-letter codes a site's language switcher shows ("ua en ru", "UA | RU | EN").
_SWITCHER_CODES = {
    "ua": "uk", "uk": "uk", "en": "en", "ru": "ru", "de": "de", "fr": "fr", "pl": "pl",
    "es": "es", "it": "it", "be": "be", "by": "be", "kz": "kk", "lt": "lt", "lv": "lv",
    "et": "et", "ro": "ro", "cs": "cs", "sk": "sk", "hu": "hu", "bg": "bg", "ka": "ka",
    "tr": "tr", "pt": "pt", "zh": "zh", "ar": "ar", "he": "he", "ja": "ja",
}  # fmt: skip
_SWITCHER_SPLIT = re.compile(r"[\s|/·•,]+")
_CAPTION = re.compile(
    r"^(?:photo|image|illustration|фото|ілюстрація|иллюстрация|світлина)\s*[:：]", re.IGNORECASE
)
_CREDIT = re.compile(r"\(([^()]{2,80})\)\s*$")
_FINAL_PUNCTUATION = tuple(".!?:;…\"”»'")
_SUBHEADING_MAX_WORDS = 14


def language_switcher(line: str) -> list[str] | None:
    """The languages a switcher line like "ua en ru" offers, or None if it is not one."""
    tokens = [t for t in _SWITCHER_SPLIT.split(line.strip().lower()) if t]
    if len(tokens) < 2 or not all(t in _SWITCHER_CODES for t in tokens):
        return None
    return list(dict.fromkeys(_SWITCHER_CODES[t] for t in tokens))


def split_caption(text: str) -> ImageRef:
    credit_match = _CREDIT.search(text)
    credit = credit_match.group(1).strip() if credit_match else None
    caption = _CAPTION.sub("", text).strip()
    if credit_match:
        caption = caption[: caption.rfind("(")].strip().rstrip(",")
    return ImageRef(caption=caption or None, credit=credit)


def parse_text(text: str, title: str | None = None) -> ParsedArticle:
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    alternates: list[str] = []
    content: list[str] = []
    for line in lines:
        switcher = language_switcher(line)
        if switcher:
            alternates.extend(code for code in switcher if code not in alternates)
        else:
            content.append(line)
    if not content:
        raise ParseError("the text has no content lines")

    provenance = {}
    if title is None and not content[0].endswith((".", "!", "?")) and len(content) > 1:
        title = content.pop(0)
        provenance["title"] = "heuristic"
    elif title is not None and content[0] == title:
        content.pop(0)

    blocks: list[TextBlock] = []
    images: list[ImageRef] = []
    for index, line in enumerate(content):
        caption_text = line
        if title and line.startswith(title) and line != title:
            # Scraped pages often repeat the headline as an image's alt text before its
            # caption: "<title> Photo: NAME, ROLE (Getty Images)".
            caption_text = line[len(title) :].strip()
        if title and line == title:
            continue
        if _CAPTION.match(caption_text):
            image = split_caption(caption_text)
            images.append(image)
            blocks.append(TextBlock("caption", caption_text))
            continue
        is_last = index == len(content) - 1
        if _looks_like_subheading(line) and not is_last and blocks:
            blocks.append(TextBlock("subheading", line))
        else:
            blocks.append(TextBlock("paragraph", line))

    if not any(block.kind == "paragraph" for block in blocks):
        raise ParseError("the text has a title but no paragraphs")
    return ParsedArticle(
        blocks=blocks, title=title, images=images, alternates=alternates, provenance=provenance
    )


def _looks_like_subheading(line: str) -> bool:
    return len(line.split()) <= _SUBHEADING_MAX_WORDS and not line.endswith(_FINAL_PUNCTUATION)
