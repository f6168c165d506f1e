"""Each line of a scraped text labelled with its role (headline, paragraph, subheading,
caption, byline, navigation, ...): first by what the line is on its own, then by its
neighbours."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from worker.pipeline.article import ParseError
from worker.pipeline.lang.names import is_bare_name, looks_like_person_name
from worker.pipeline.lang.switcher import language_switcher
from worker.pipeline.parse.text.bylines import (
    META_SEPARATOR,
    REPORTING_CREDITS,
    SOURCE,
    byline_authors,
    is_date_line,
    split_dateline,
)
from worker.pipeline.parse.text.captions import alt_text_and_caption, is_caption, strip_title_prefix
from worker.pipeline.parse.text.lines import (
    is_headline_like,
)
from worker.pipeline.parse.text.navigation import READ_ALSO, is_menu, is_navigation

Role = Literal[
    "switcher",  # "ua en ru": which translations exist
    "navigation",  # share, subscribe, "Read also:", cookies, ads, menus, breadcrumbs
    "title",
    "title_repeat",  # the headline again, e.g. as an image's alt text before its caption
    "caption",
    "byline",
    "dateline",  # "KYIV, Nov 24 (Reuters)" or a standalone "24 листопада 2023, 14:05"
    "source",  # "Source: …", "Джерело: …"
    "subheading",
    "lead",  # the first paragraph
    "paragraph",
    "quote",  # a line that is entirely a quotation (a pull quote)
    "list",
]


_FURNITURE_ROLES = {"switcher", "navigation", "read_also"}


# A line labelled by itself: "text" is decided by its neighbours (title, subheading, lead,
# paragraph), "read_also" is navigation that may announce a linked headline on the next line.
_Piece = tuple[Role | Literal["text", "read_also"], str]


@dataclass(frozen=True)
class LabelledLine:
    role: Role
    text: str


@dataclass
class _Labels:
    lines: list[LabelledLine] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# Longer lines are body text: furniture is never that long, and it keeps every pattern off
# megabyte-long lines.
_MAX_FURNITURE_CHARS = 2000


# Far beyond any article (a long one has a few hundred lines); bounds the time spent.
_MAX_LINES = 20_000


_SUBHEADING_MAX_WORDS = 14


_SUBHEADING_MAX_CHARS = 150


_BINARY_SHARE = 0.10  # control characters above this share of the text: not text at all


_SUBHEADING_ENDINGS = tuple(".!:;,…\"”»'")  # a subheading may ask a question


_CONTINUED_LINE_ENDINGS = tuple(".!?:…")  # a hard-wrapped line stops anywhere else


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")


_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")


# Cyrillic UTF-8 read as Latin-1 or cp1252: "Ð—ÐµÐ»ÐµÐ½" for "Зелен"
_MOJIBAKE = re.compile(r"[ÐÑ][\u0080-\u00bf\u0152-\u0192\u02c6-\u02dc\u2013-\u2122]")


_UNUSUAL = re.compile(
    r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u200b-\u200d\u2060\ufeff\u00ad\ufffdÐÑ]"
)


_WORD = re.compile(r"\w+")


_LIST_ITEM = re.compile(r"^(?:[-*•·▪●◦‣✓✔]\s+|\d{1,2}[.)]\s+)\S")


_DIALOGUE = re.compile(r"\s[-–—]\s")


_QUOTE_PAIRS = {"“": "”", "«": "»", "„": "“", '"': '"', "‘": "’"}


def label(text: str, title: str | None) -> _Labels:
    labels = _Labels()
    lines = _clean_lines(text, labels.warnings)
    pieces = [piece for line in lines for piece in _intrinsic_labels(line)]
    if all(role in _FURNITURE_ROLES for role, _ in pieces):
        raise ParseError(
            "the text has only site navigation (language switcher, share, subscribe or "
            "'read also' lines), no article"
        )
    _assign_context_roles(pieces, title, labels)
    return labels


def _clean_lines(text: str, warnings: list[str]) -> list[str]:
    """Non-empty lines with spaces normalised. Hard-wrapped paragraphs are joined again:
    a long line that stops mid-sentence followed by one starting in lower case."""
    if not text or not text.strip():
        raise ParseError("the text is empty")
    if _UNUSUAL.search(text):  # rare: most texts skip every repair below
        text = _repair(text, warnings)
    # Each line as its parts: a hard-wrapped paragraph is several physical lines, joined
    # once at the end (joining as we go would copy the growing line each time).
    lines: list[list[str]] = []
    previous = ""  # the physical line before, "" after a blank line
    for raw in text.splitlines():
        line = " ".join(raw.split())  # every kind of space, and runs of them, as one space
        if not line:
            previous = ""
            continue
        if len(line) > _MAX_FURNITURE_CHARS * 50:
            warnings.append(
                f"a line of {len(line):,} characters without a line break: kept whole as "
                "one paragraph"
            )
        if (
            len(previous) >= 50
            and not previous.endswith(_CONTINUED_LINE_ENDINGS)
            and line[0].islower()
            and not _LIST_ITEM.match(line)
        ):
            lines[-1].append(line)
        else:
            lines.append([line])
            if len(lines) > _MAX_LINES:
                # refuse now: building a list per line of a huge text costs more than
                # linear time (the garbage collector walks every list made so far)
                count = sum(1 for raw in text.splitlines() if raw.strip())
                raise ParseError(
                    f"the text has about {count:,} lines; an article has at most {_MAX_LINES:,}"
                )
        previous = line
    if not lines:
        raise ParseError("the text is empty")
    return [" ".join(parts) for parts in lines]


def _repair(text: str, warnings: list[str]) -> str:
    """Undo UTF-8 read as Latin-1, drop control and invisible characters (refusing binary
    data), and say what looks mis-decoded."""
    if len(_MOJIBAKE.findall(text[:100_000])) > 20:
        for wrong_encoding in ("latin-1", "cp1252"):
            try:
                text = text.encode(wrong_encoding).decode("utf-8")
            except UnicodeError:
                continue
            warnings.append(f"the text was UTF-8 read as {wrong_encoding}: decoded it again")
            break
        else:
            warnings.append("the text looks like UTF-8 read with the wrong encoding (mojibake)")
    control = len(_CONTROL.findall(text))
    if control:
        share = control / len(text)
        if share > _BINARY_SHARE:
            raise ParseError(
                f"the text looks like binary data, not text ({share:.0%} control characters)"
            )
        text = _CONTROL.sub("", text)
        warnings.append(f"removed {control} control characters")
    replacements = text.count("\ufffd")
    if replacements:
        warnings.append(
            f"{replacements} replacement characters (\ufffd): part of the text was decoded "
            "with the wrong encoding"
        )
    return _INVISIBLE.sub("", text)


def _intrinsic_labels(line: str) -> list[_Piece]:
    """What a line is by itself, before its neighbours are known. "text" lines become the
    title, subheadings or paragraphs later; "read_also" is navigation that may announce a
    headline on the next line."""
    if len(line) > _MAX_FURNITURE_CHARS:
        return [("text", line)]
    if language_switcher(line):
        return [("switcher", line)]
    if READ_ALSO.match(line):
        return [("read_also", line)]
    if is_navigation(line):
        return [("navigation", line)]
    if SOURCE.match(line) and len(line.split()) <= 25:
        return [("source", line)]
    if is_caption(line):
        return [("caption", line)]
    if byline_authors(line) is not None or REPORTING_CREDITS.match(line):
        return [("byline", line)]
    if is_date_line(line):
        return [("dateline", line)]
    if len(line) <= 200 and META_SEPARATOR.search(line):
        # "By Jane Doe | Nov 24, 2023 | 5 min read", "Олена Рощіна — 27 листопада, 10:15":
        # label each part by itself; a bare name next to a date is the author.
        parts = META_SEPARATOR.split(line)
        labelled = [_intrinsic_labels(part)[0] for part in parts]
        if any(role == "dateline" for role, _ in labelled):
            labelled = [
                ("byline", part)
                if role == "text" and looks_like_person_name(part)
                else (role, part)
                for role, part in labelled
            ]
        if all(role in ("byline", "dateline", "navigation") for role, _ in labelled):
            return labelled
    if _LIST_ITEM.match(line) and not _is_dialogue(line):
        return [("list", line)]
    if _is_pull_quote(line):
        return [("quote", line)]
    return [("text", line)]


def _assign_context_roles(
    pieces: list[_Piece],
    title: str | None,
    labels: _Labels,
) -> None:
    out = labels.lines
    title_key = _key(title) if title else None
    body_started = False
    paragraphs = 0
    swallow_headline = False  # after a bare "Read also:", the next headline is a link
    last_body_index = max(
        (i for i, (role, _) in enumerate(pieces) if role in ("text", "list", "quote")),
        default=-1,
    )
    last_content_index = max(
        (i for i, (role, _) in enumerate(pieces) if role not in _FURNITURE_ROLES), default=-1
    )
    for index, (role, line) in enumerate(pieces):
        if role == "read_also":
            out.append(LabelledLine("navigation", line))
            swallow_headline = READ_ALSO.sub("", line).strip(" :-—–") == ""
            continue
        if swallow_headline and role == "text" and is_headline_like(line, max_words=25):
            out.append(LabelledLine("navigation", line))
            swallow_headline = False
            continue
        swallow_headline = False
        if role == "caption":
            alt_text, caption = alt_text_and_caption(line)
            if alt_text:
                if title_key and _key(alt_text) == title_key:
                    out.append(LabelledLine("title_repeat", alt_text))
                elif title_key is None and not body_started:
                    out.append(LabelledLine("title", alt_text))  # the only copy of the headline
                    title, title_key = alt_text, _key(alt_text)
                else:
                    out.append(LabelledLine("navigation", alt_text))
                line = caption
        if role == "list" and line[0] in "-–" and not _has_list_neighbour(pieces, index):
            role = "text"  # "- Ми не здамося." alone is speech, not a one-item list
        if role != "text":
            if role in ("list", "quote"):
                body_started = True
            out.append(LabelledLine(role, line))
            continue
        if len(line) > _MAX_FURNITURE_CHARS:  # body text, whatever it holds
            body_started = True
            out.append(LabelledLine("lead" if paragraphs == 0 else "paragraph", line))
            paragraphs += 1
            continue
        if title_key and (
            _key(line) == title_key
            or (not body_started and paragraphs == 0 and _same_headline(line, title_key))
        ):
            out.append(LabelledLine("title_repeat", line))
            continue
        caption_after_title = strip_title_prefix(line, title)
        if caption_after_title:
            out.append(LabelledLine("title_repeat", line[: -len(caption_after_title)].strip()))
            out.append(LabelledLine("caption", caption_after_title))
            continue
        has_more_body = index < last_body_index
        if not body_started:
            if is_menu(line) and has_more_body:
                out.append(LabelledLine("navigation", line))
                continue
            # A headline heads something: a lone line is the article itself.
            if title_key is None and index < last_content_index and is_headline_like(line):
                out.append(LabelledLine("title", line))
                title, title_key = line, _key(line)
                continue
        if index == last_body_index and body_started and is_bare_name(line):
            out.append(LabelledLine("byline", line))  # the author signs at the end
            continue
        if (
            body_started
            and has_more_body
            and _is_subheading_like(line)
            and _next_text_is_body(pieces, index)
        ):
            out.append(LabelledLine("subheading", line))
            continue
        body_started = True
        if paragraphs == 0:
            dateline, line = split_dateline(line, is_lead=True)
            if dateline:
                out.append(LabelledLine("dateline", dateline))
        out.append(LabelledLine("lead" if paragraphs == 0 else "paragraph", line))
        paragraphs += 1


def _has_list_neighbour(pieces: list[_Piece], index: int) -> bool:
    before = pieces[index - 1][0] if index > 0 else None
    after = pieces[index + 1][0] if index + 1 < len(pieces) else None
    return "list" in (before, after)


def _next_text_is_body(pieces: list[_Piece], index: int) -> bool:
    """Whether the next body line is a paragraph, list or quote: a subheading heads text."""
    for following in range(index + 1, len(pieces)):
        role, line = pieces[following]
        if role in ("list", "quote"):
            return True
        if role == "text":
            return len(line) > _SUBHEADING_MAX_CHARS or not (
                _is_subheading_like(line) or is_bare_name(line)
            )
    return False


def _is_subheading_like(line: str) -> bool:
    return (
        len(line) <= _SUBHEADING_MAX_CHARS
        and len(line.split()) <= _SUBHEADING_MAX_WORDS
        and not line.endswith(_SUBHEADING_ENDINGS)
    )


def _is_dialogue(line: str) -> bool:
    """ "- Ми не здамося, - сказав він." is speech, not a list item."""
    return bool(_DIALOGUE.search(line[2:]))


def _is_pull_quote(line: str) -> bool:
    """The whole line is one quotation: “…”, «…», „…“ or "…" (a final full stop allowed),
    with no closing mark inside that would mean an attribution follows."""
    opening = line[0]
    closing = _QUOTE_PAIRS.get(opening)
    if closing is None or len(line) < 12:
        return False
    body = line[1:].rstrip(".")
    if not body.endswith(closing):
        return False
    inner = body[: -len(closing)]
    if closing in inner:
        return False
    return opening == closing or opening not in inner


def _same_headline(line: str, title_key: str) -> bool:
    """The sender's title in another wording: most words shared (site suffixes, edits)."""
    if not is_headline_like(line):
        return False
    words, title_words = set(_WORD.findall(line.casefold())), set(_WORD.findall(title_key))
    if not words or not title_words:
        return False
    return len(words & title_words) / len(words | title_words) >= 0.6


def _key(text: str) -> str:
    """For comparing a headline with its repeats: case, spacing and final marks ignored."""
    return " ".join(text.casefold().split()).strip(" .!?:")
