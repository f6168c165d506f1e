"""Bylines (authors), source lines, datelines, and the publication date written in the text."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

from newsflow.dates import published_or_none
from worker.pipeline.article import ParsedArticle
from worker.pipeline.lang.months import MONTH_NUMBERS, WEEKDAYS
from worker.pipeline.lang.names import looks_like_person_name
from worker.pipeline.parse.text.lines import DIGIT

_BYLINE = re.compile(
    r"^(?:(?:written |reporting |text )?by\s+|"
    r"(?:author|authors|автор|авторка|автори|авторы|текст|text)\s*(?:[:：]|\s[—–-])\s*)",
    re.IGNORECASE,
)


REPORTING_CREDITS = re.compile(
    r"^\(?(?:reporting|writing|additional reporting) by\b.*(?:editing by\b.*)?\)?$", re.I
)


AUTHOR_SEPARATORS = re.compile(r",\s*|;\s*|\s+(?:and|&|та|і|й|и)\s+")


SOURCE = re.compile(r"^(?:source|sources|джерело|джерела|источник|источники)\s*[:：]\s*\S", re.I)


META_SEPARATOR = re.compile(r"\s+[|·•—–]\s+")


_PLACE = r"[A-ZА-ЯІЇЄҐ][\w'’.\-]*(?:\s[A-ZА-ЯІЇЄҐ][\w'’.\-]*){0,2}"


_DATELINE_PREFIX = re.compile(
    rf"^(?P<place>{_PLACE})(?:,\s(?P<detail>[^()\-—–,]{{2,30}}?)){{0,2}}"
    r"(?:\s?\((?P<agency>[^()]{2,40})\))?\s?(?:--|[-—–])\s"
)


_RELATIVE_DAYS = {"today", "yesterday", "сьогодні", "вчора", "сегодня", "вчера"}


_DATE_FILLERS = {"at", "о", "об", "в", "р", "року", "г", "года", "on", "t", "-", "—", "–", "|"}


_TIME_ZONES = {
    "utc": 0, "gmt": 0, "z": 0, "eet": 2, "eest": 3, "cet": 1, "cest": 2, "msk": 3,
    "est": -5, "edt": -4, "kyiv": None, "київ": None, "киев": None,
}  # fmt: skip


_DATE_LABEL = re.compile(
    r"^(?:(?P<updated>updated|last updated|оновлено|обновлено)|published|posted|date|"
    r"опубліковано|дата публікації|опубликовано|дата публикации|дата)\s*(?:on)?\s*[:：]?\s*",
    re.IGNORECASE,
)


_DATE_TOKEN_SPLIT = re.compile(r"[\s,]+|(?<=\d)(?=[a-zа-я])|(?<=[a-zа-я])(?=\d)")


_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")


_NUMERIC_DATE = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")


_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:t(\d{2}):(\d{2})(?::\d{2})?)?$")


_OFFSET = re.compile(r"^(?:utc|gmt)?([+-])(\d{1,2})(?::?(\d{2}))?$")


def is_date_line(line: str) -> bool:
    return len(line) <= 80 and bool(DIGIT.search(line)) and _parse_date(line) is not False


def byline_authors(line: str) -> list[str] | None:
    """The authors a byline names ("By Jane Doe and John Smith", "Автор: Іван Петренко"),
    or None when the line is not a byline."""
    match = _BYLINE.match(line)
    if not match or len(line.split()) > 16:
        return None
    names_text = line[match.end() :].strip().rstrip(".")
    parts = [part.strip() for part in AUTHOR_SEPARATORS.split(names_text) if part.strip()]
    is_labelled = line[: match.end()].strip().endswith((":", "：", "—", "–", "-"))
    # "By the end of the year, …" is prose: after a bare "By" the first part must be a name.
    # A labelled byline ("Автор: Редакція") is one whatever follows.
    if not is_labelled and not (parts and looks_like_person_name(parts[0], allow_capitals=True)):
        return None
    names = [part for part in parts if looks_like_person_name(part, allow_capitals=True)]
    return [name.title() if name.isupper() else name for name in names]  # "By JANE DOE"


def add_byline(article: ParsedArticle, line: str) -> None:
    authors = byline_authors(line)
    if authors is None:
        if REPORTING_CREDITS.match(line):
            authors = _reporters(line)
        else:
            authors = [line.rstrip(".")]  # a name signing the end of the article
    article.byline = article.byline or line
    new = [author for author in authors if author not in article.authors]
    if new:
        article.authors.extend(new)
        article.provenance["authors"] = "heuristic"


def _reporters(line: str) -> list[str]:
    """ "(Reporting by Olena Harmash; Editing by Mark Heinrich)": the reporters."""
    text = line.strip("() ")
    names: list[str] = []
    for segment in text.split(";"):
        segment = segment.strip()
        if segment.casefold().startswith("editing by"):
            continue
        segment = re.sub(r"^(?:additional )?(?:reporting|writing) by\s+", "", segment, flags=re.I)
        names.extend(
            p for p in AUTHOR_SEPARATORS.split(segment) if looks_like_person_name(p.strip())
        )
    return [name.strip() for name in names]


def split_dateline(line: str, is_lead: bool) -> tuple[str | None, str]:
    """ "KYIV, Nov 24 (Reuters) - Ukraine said …" -> ("KYIV, Nov 24 (Reuters)", "Ukraine …")."""
    match = _DATELINE_PREFIX.match(line[:160])
    if not match:
        return None, line
    place = match.group("place")
    capitals = place.replace(" ", "").replace(".", "").replace("-", "")
    is_capitals = capitals.isupper() and len(capitals) >= 3
    has_date = bool(match.group("detail")) and _parse_date(match.group("detail") or "") is not False
    if not (match.group("agency") or has_date or (is_capitals and is_lead)):
        return None, line
    rest = line[match.end() :].strip()
    if not rest:
        return None, line
    return line[: match.end()].strip().rstrip("-—–").strip(), rest


def add_dateline(article: ParsedArticle, line: str) -> None:
    """The first dateline is kept, except that a journalist's dateline, which names the place
    ("KYIV, Nov 24 (Reuters)"), wins over a bare date line. "Updated …" lines say nothing
    about publication."""
    if _is_update(line):
        return
    parsed = _parse_date(line)
    names_place = parsed is False
    if article.dateline is None or (names_place and _parse_date(article.dateline) is not False):
        article.dateline = line
    if article.published_at is None and isinstance(parsed, datetime):
        article.published_at = parsed
        article.provenance["published_at"] = "heuristic"


def _is_update(line: str) -> bool:
    label = _DATE_LABEL.match(line)
    return bool(label and label.group("updated"))


def _parse_date(text: str) -> datetime | None | Literal[False]:
    """A line that is only a date and/or time: the datetime (read as UTC unless a zone is
    given), None when it is a date without a full calendar date ("Today, 14:05", "Nov 24"),
    False when the line is not a date at all."""
    text = _DATE_LABEL.sub("", text.strip(), count=1).casefold().rstrip(".")
    tokens = [t.strip(".") for t in _DATE_TOKEN_SPLIT.split(text)]
    tokens = [t for t in tokens if t and t not in _DATE_FILLERS]
    if not tokens or len(tokens) > 9:
        return False
    day = month = year = hour = minute = None
    offset: int | None = None
    pm: bool | None = None
    relative = False
    for token in tokens:
        if token in MONTH_NUMBERS and month is None:
            month = MONTH_NUMBERS[token]
        elif token in WEEKDAYS:
            continue
        elif token in _RELATIVE_DAYS:
            relative = True
        elif token in ("am", "pm", "a.m", "p.m"):
            pm = token.startswith("p")
        elif token in _TIME_ZONES:
            offset = _TIME_ZONES[token]
        elif (time := _TIME.match(token)) and hour is None:
            hour, minute = int(time.group(1)), int(time.group(2))
        elif (numeric := _NUMERIC_DATE.match(token)) and day is None:
            day, month, year = int(numeric.group(1)), int(numeric.group(2)), int(numeric.group(3))
        elif (iso := _ISO_DATE.match(token)) and day is None:
            year, month, day = int(iso.group(1)), int(iso.group(2)), int(iso.group(3))
            if iso.group(4):
                hour, minute = int(iso.group(4)), int(iso.group(5))
        elif (zone := _OFFSET.match(token)) and offset is None:
            hours = int(zone.group(2)) + int(zone.group(3) or 0) / 60
            offset = int(hours) if zone.group(1) == "+" else -int(hours)
        elif token.isdigit() and len(token) == 4 and year is None:
            year = int(token)
        elif token.isdigit() and len(token) <= 2 and day is None:
            day = int(token)
        else:
            return False
    if month is None and not relative and (hour is None or day is not None):
        return False
    if not (day and month and year):
        return None
    if hour is not None and pm is not None:
        hour = hour % 12 + (12 if pm else 0)
    try:
        zone_info = timezone(timedelta(hours=offset)) if offset is not None else UTC
        # a date newsflow does not keep (newsflow/dates.py) is no full calendar date here
        return published_or_none(
            datetime(year, month, day, hour or 0, minute or 0, tzinfo=zone_info)
        )
    except ValueError:
        return None
