"""Dates mentioned in an article's text, resolved against its publication date.

Own month/weekday tables for en/uk/ru (every grammatical case we meet in news) instead of
dateparser: dateparser is slow and finds false dates in raw text ("5000", "2,71%")."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

from newsflow.contract import DateMentionRecord
from newsflow.dates import mentioned_in_range
from worker.pipeline.article import EnrichedArticle
from worker.pipeline.enrich.enricher import Enricher
from worker.pipeline.lang.months import month_patterns

# Monday = 0; "середа"/"среда" also mean "among"/"environment": they need a preposition
_WEEKDAYS: dict[str, list[tuple[int, str]]] = {
    "en": [
        (0, r"Monday"),
        (1, r"Tuesday"),
        (2, r"Wednesday"),
        (3, r"Thursday"),
        (4, r"Friday"),
        (5, r"Saturday"),
        (6, r"Sunday"),
    ],
    "uk": [
        (0, r"(?:[ув]\s+)?понеділ(?:ок|ка)"),
        (1, r"(?:[ув]\s+)?вівтор(?:ок|ка)"),
        (2, r"[ув]\s+серед[уиа]"),
        (3, r"(?:[ув]\s+)?четвер(?:га)?"),
        (4, r"(?:[ув]\s+)?п[’'ʼ]?ятниц[юіяи]"),
        (5, r"(?:[ув]\s+)?субот[уиаі]"),
        (6, r"(?:[ув]\s+)?неділ[юіяи]"),
    ],
    "ru": [
        (0, r"(?:в\s+)?понедельник(?:а)?"),
        (1, r"(?:во\s+)?вторник(?:а)?"),
        (2, r"в\s+сред[уы]"),
        (3, r"(?:в\s+)?четверг(?:а)?"),
        (4, r"(?:в\s+)?пятниц[уыа]"),
        (5, r"(?:в\s+)?суббот[уыа]"),
        (6, r"(?:в\s+)?воскресень[ея]"),
    ],
}

# relative words -> offset in days from publication
_RELATIVE: dict[str, list[tuple[int, str]]] = {
    "en": [
        (-2, r"(?i:the\s+day\s+before\s+yesterday)"),
        (-1, r"(?i:yesterday)"),
        (0, r"(?i:today)"),
        (1, r"(?i:tomorrow)"),
    ],
    "uk": [(-2, r"позавчора"), (-1, r"вчора|учора"), (0, r"сьогодні"), (1, r"завтра")],
    "ru": [(-2, r"позавчера"), (-1, r"вчера"), (0, r"сегодня"), (1, r"завтра")],
}

_DAYS_AGO = {
    "en": r"(?P<ago>\d{1,3})\s+days?\s+ago",
    "uk": r"(?P<ago>\d{1,3})\s+д(?:ень|ні|нів)\s+тому",
    "ru": r"(?P<ago>\d{1,3})\s+(?:день|дня|дней)\s+назад",
}


def _alternation(table: list[tuple[int, str]], prefix: str) -> str:
    return "|".join(f"(?P<{prefix}{number}>{pattern})" for number, pattern in table)


@lru_cache(maxsize=8)
def _pattern(language: str) -> re.Pattern[str]:
    lang = language if language in _WEEKDAYS else "en"
    months = _alternation(month_patterns(lang), "m")
    weekdays = _alternation(_WEEKDAYS[lang], "w")
    relative = "|".join(f"(?P<r{i}>{p})" for i, (_, p) in enumerate(_RELATIVE[lang]))
    year = r"(?P<year>(?:1[89]|2[01])\d\d)"
    iso = r"(?P<iso>(?P<iy>(?:1[89]|2[01])\d\d)-(?P<im>[01]\d)-(?P<id>[0-3]\d))"
    dotted = r"(?P<dotted>(?P<dd>[0-3]?\d)\.(?P<dm>[01]?\d)\.(?P<dy>(?:1[89]|2[01])\d\d))"
    day = r"(?P<day>[0-3]?\d)"
    if lang == "en":
        # "November 22, 2023", "22 November 2023", "22nd of November"
        ordinal = r"(?:st|nd|rd|th)?"
        # a group name can appear once: the day-first form numbers its months "n1".."n12"
        months_again = _alternation(month_patterns(lang), "n")
        dated = (
            rf"(?:(?:{weekdays}),?\s+)?(?:"
            rf"(?P<month_first>{months})\s+{day}{ordinal}\b(?:,?\s+{year})?"
            rf"|(?P<day2>[0-3]?\d){ordinal}\s+(?:of\s+)?(?P<month_second>{months_again})"
            rf"(?:,?\s+(?P<year2>(?:1[89]|2[01])\d\d))?)"
        )
        weekday_alone = _alternation(_WEEKDAYS[lang], "v")
    else:
        year_word = r"(?:\s*(?:року|р\.|рік|года|г\.|год))?"
        dated = rf"{day}\s+(?P<month_second>{months})(?:\s+{year}{year_word})?"
        weekday_alone = _alternation(_WEEKDAYS[lang], "v")
    source = (
        rf"(?<![\w.\-/]){iso}(?![\w\-])|(?<![\w.\-/]){dotted}(?![\w.])"
        rf"|(?<![\w\-]){dated}(?![\w\-])"
        rf"|(?<![\w\-])(?:{weekday_alone})(?![\w\-])"
        rf"|(?<![\w\-]){_DAYS_AGO[lang]}(?![\w\-])"
        rf"|(?<![\w\-])(?:{relative})(?![\w\-])"
    )
    flags = re.IGNORECASE if lang != "en" else 0
    return re.compile(source, flags)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


# news announces upcoming events a few weeks ahead; further ahead, a day and month without a
# year is almost always one already past
_FUTURE_DAYS = 60


def _without_year(month: int, day: int, anchor: date) -> date | None:
    """The date for a day and month without a year: the coming one when it is at most
    ``_FUTURE_DAYS`` ahead ("December 5" in late November), else the most recent one not
    after publication ("On November 22" in an article of 2023-11-24 is 2023-11-22)."""
    candidates = [
        d
        for y in (anchor.year - 1, anchor.year, anchor.year + 1)
        if (d := _safe_date(y, month, day)) is not None
    ]
    ahead = [d for d in candidates if 0 < (d - anchor).days <= _FUTURE_DAYS]
    if ahead:
        return ahead[0]
    past = [d for d in candidates if d <= anchor]
    return past[-1] if past else None


def _group_number(match: re.Match[str], prefix: str) -> int | None:
    for name, value in match.groupdict().items():
        if value is not None and name.startswith(prefix) and name[len(prefix) :].isdigit():
            return int(name[len(prefix) :])
    return None


def extract_mentioned_dates(
    text: str, language: str, published_at: datetime | None
) -> list[DateMentionRecord]:
    """Every date expression in ``text``. ``date`` is set when it can be fixed: absolute
    dates always, relative ones (no year, "yesterday", weekdays) only with ``published_at``."""
    lang = language if language in _WEEKDAYS else "en"
    anchor = published_at.date() if published_at else None
    if anchor is not None and not mentioned_in_range(anchor):
        anchor = None  # nothing to resolve against (and no overflow near year 1 or 9999)
    found: list[DateMentionRecord] = []
    for match in _pattern(lang).finditer(text):
        groups = match.groupdict()
        resolved_date: date | None = None
        if groups["iso"]:
            resolved_date = _safe_date(int(groups["iy"]), int(groups["im"]), int(groups["id"]))
        elif groups["dotted"]:
            resolved_date = _safe_date(int(groups["dy"]), int(groups["dm"]), int(groups["dd"]))
        elif groups.get("month_first") or groups.get("month_second"):
            month = _group_number(match, "m") or _group_number(match, "n")
            day_text = groups.get("day") or groups.get("day2")
            year_text = groups.get("year") or groups.get("year2")
            if month is not None and day_text:
                if year_text:
                    resolved_date = _safe_date(int(year_text), month, int(day_text))
                elif anchor:
                    resolved_date = _without_year(month, int(day_text), anchor)
        elif groups.get("ago"):
            if anchor:
                resolved_date = anchor - timedelta(days=int(groups["ago"]))
        elif (weekday := _group_number(match, "v")) is not None:
            if anchor:
                resolved_date = anchor - timedelta(days=(anchor.weekday() - weekday) % 7)
        else:
            index = _group_number(match, "r")
            if index is not None and anchor:
                resolved_date = anchor + timedelta(days=_RELATIVE[lang][index][0])
        if resolved_date is not None and not mentioned_in_range(resolved_date):
            resolved_date = None  # out of newsflow/dates.py's range: kept as text only
        if resolved_date is not None and not mentioned_in_range(resolved_date):
            resolved_date = None  # out of newsflow/dates.py's range: kept as text only
        found.append(
            DateMentionRecord(
                text=match.group(0),
                start=match.start(),
                end=match.end(),
                date=resolved_date,
                resolved=resolved_date is not None,
            )
        )
    return found


def _apply(article: EnrichedArticle) -> None:
    parsed = article.parsed
    article.mentioned_dates = extract_mentioned_dates(
        article.text, str(article.language), parsed.published_at
    )


ENRICHER = Enricher("mentioned_dates.rules", "2", _apply, results="mentioned_dates")
