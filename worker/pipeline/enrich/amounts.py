"""Numbers with what they measure: percentages, money, counts ("5,000 soldiers")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from newsflow.contract import AmountRecord
from worker.pipeline.article import EnrichedArticle
from worker.pipeline.enrich import mentioned_dates
from worker.pipeline.enrich.enricher import Enricher, ran
from worker.pipeline.enrich.mentioned_dates import extract_mentioned_dates

_MULTIPLIERS: list[tuple[float, str]] = [
    (1e3, r"thousand|тис\.|тисяч[іа]?|тыс\.|тысяч[аи]?"),
    (1e6, r"million|mln\.?|mn|млн\.?|мільйон(?:а|ів)?|миллион(?:а|ов)?"),
    (1e9, r"billion|bn|млрд\.?|мільярд(?:а|ів)?|миллиард(?:а|ов)?"),
    (1e12, r"trillion|tn|трлн\.?|трильйон(?:а|ів)?|триллион(?:а|ов)?"),
]

_PREFIX_CURRENCIES = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "₴": "UAH", "₽": "RUB"}

# unit -> words after the number (all cases we meet in uk/ru)
_SUFFIX_UNITS: list[tuple[str, str]] = [
    (
        "percent",
        r"%|per\s?cent|percent|відс(?:оток|отки|отків|отка)?\.?"
        r"|процент(?:и|ів|а|ов)?|проц\.",
    ),
    (
        "USD",
        r"USD|US\s+dollars?|dollars?|доларів|долари|долар(?:а)?|дол\.|долларов"
        r"|доллар(?:а|ы)?|долл\.",
    ),
    ("EUR", r"EUR|euros?|євро|евро"),
    ("UAH", r"UAH|hryvnias?|hryvnia|hryvnyas?|гривень|гривні|гривн[яи]|гривен|грн\.?"),
    ("RUB", r"RUB|roubles?|rubles?|рублів|рублей|рубл[яіьи]|руб\.?"),
    (
        "GBP",
        r"GBP|pounds?\s+sterling|pounds?|фунтів|фунтов|фунт(?:а|и|ы)?(?:\s+стерлінгів"
        r"|\s+стерлингов)?",
    ),
]

# words after a number that start what it counts, but are not the thing itself
_OF_STOPWORDS = frozenset(
    """
    a an the and or but in on at to for from by with as is are was were be been has have had
    will would per than that which who this these those it its of over under about up down
    more less also only some each year years ago days day times
    і й та а але в у на до з із зі від за по про для що як чи це який яка які було буде є
    більше менше понад близько лише ще також тому років року рік днів дні разів
    и а но в во на до с со от за по про для что как или это который которая было будет
    больше меньше свыше около лишь еще ещё также назад лет года год дней дня раз
    """.split()
)

# counters: "3 million units of ammunition" keeps the "of" phrase
_COUNTERS = frozenset(
    """
    units pieces tons tonnes rounds barrels cubic litres liters packages sets kilograms
    одиниць одиниці штук тонн тонни тон комплектів пакетів барелів кубометрів літрів
    единиц штук тонн комплектов пакетов баррелей кубометров литров
    """.split()
)

_WORD = r"[^\W\d_][\w'’ʼ\-]*"


@lru_cache(maxsize=8)
def _pattern(language: str) -> re.Pattern[str]:
    if language in ("uk", "ru"):
        # decimal comma; spaces (incl. no-break and narrow no-break) group thousands
        number = (
            r"(?P<number>\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?(?!\d)"
            r"|\d+(?:[.,]\d+)?)"
        )
    else:
        number = r"(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|\d+(?:\.\d+)?)"
    prefix = "|".join(re.escape(symbol) for symbol in sorted(_PREFIX_CURRENCIES, key=len)[::-1])
    multiplier = "|".join(f"(?P<x{i}>{p})" for i, (_, p) in enumerate(_MULTIPLIERS))
    unit = "|".join(f"(?P<u_{name}>{p})" for name, p in _SUFFIX_UNITS)
    source = (
        rf"(?<![\w.,:])(?P<prefix>{prefix})?\s?{number}(?!\d|[.,]\d)"
        rf"(?:[\s\u00a0]?-?(?:{multiplier})(?!\w))?"
        rf"(?:[\s\u00a0]?(?:{unit})(?!\w))?"
    )
    return re.compile(source, re.IGNORECASE)


_FOLLOWING = re.compile(rf"[ \u00a0]+(?:(?P<of>of)[ \u00a0]+)?(?P<first>{_WORD})")
_OF_TAIL = re.compile(rf"[ \u00a0]+(?:of[ \u00a0]+)?(?P<second>{_WORD})")
_HYPHEN_TAIL = re.compile(rf"-(?P<first>{_WORD})(?:[ \u00a0]+(?P<second>{_WORD}))?")
_ORDINAL_SUFFIX = re.compile(r"(?:st|nd|rd|th|-?(?:й|го|му|ї|ий|та|те|ти|ша|ше|ая|ое|ый|ой)\b)")
_LIST_MARKER = re.compile(r"[.)]\s")


def _parse_number(raw: str, language: str) -> float:
    compact = re.sub(r"[ \u00a0\u202f]", "", raw)
    if language in ("uk", "ru"):
        return float(compact.replace(",", "."))
    return float(compact.replace(",", ""))


def _what_it_counts(text: str, end: int, unit: str | None) -> tuple[str | None, int]:
    """The noun after the amount: "of GDP", "soldiers", "units of ammunition" (a counter
    keeps its "of" phrase)."""
    hyphen = _HYPHEN_TAIL.match(text, end)
    if hyphen and unit is None:
        # "10-point plan": a compound adjective, reported as a count of "point plan"
        words = [w for w in (hyphen.group("first"), hyphen.group("second")) if w]
        words = [w for w in words if w.casefold() not in _OF_STOPWORDS]
        return (" ".join(words) or None), hyphen.end()
    following = _FOLLOWING.match(text, end)
    if not following:
        return None, end
    first = following.group("first")
    if first.casefold() in _OF_STOPWORDS:
        return None, end
    if unit in ("USD", "EUR", "UAH", "RUB", "GBP") and not following.group("of"):
        # "$2.5 billion aid" reads oddly; only "... of X" or the uk/ru genitive after money
        if not first[:1].islower() or first.casefold() in _COUNTERS:
            return None, end
    phrase, phrase_end = first, following.end()
    if first.casefold() in _COUNTERS:
        tail = _OF_TAIL.match(text, phrase_end)
        if tail and tail.group("second").casefold() not in _OF_STOPWORDS:
            phrase = text[following.start("first") : tail.end()]
            phrase_end = tail.end()
    return phrase, phrase_end


def extract_amounts(
    text: str, language: str, date_spans: Sequence[tuple[int, int]] | None = None
) -> list[AmountRecord]:
    """Amounts in ``text``. Years, dates, times, ordinals ("22nd", "3-й") and list markers
    ("1. ") are not amounts. ``date_spans``: (start, end) of the dates mentioned in
    ``text``, in order, when the caller has found them already."""
    lang = language if language in ("en", "uk", "ru") else "en"
    if date_spans is None:
        date_spans = [(d.start, d.end) for d in extract_mentioned_dates(text, lang, None)]
    date_index = 0
    found: list[AmountRecord] = []
    for match in _pattern(lang).finditer(text):
        start, end = match.start(), match.end()
        number_start, number_end = match.span("number")
        while date_index < len(date_spans) and date_spans[date_index][1] <= number_start:
            date_index += 1
        if date_index < len(date_spans) and date_spans[date_index][0] < number_end:
            continue
        if end == number_end and text[end : end + 1].isalnum():
            continue  # "5G", "3D", "5th": a name or an ordinal, not an amount
        after = text[number_end : number_end + 4]
        if after[:1] == ":" and after[1:2].isdigit():  # a time of day
            continue
        if not match.group("prefix") and _ORDINAL_SUFFIX.match(text, number_end):
            continue
        groups = match.groupdict()
        multiplier = next(
            (factor for i, (factor, _) in enumerate(_MULTIPLIERS) if groups[f"x{i}"]), 1.0
        )
        unit: str | None = next((name for name, _ in _SUFFIX_UNITS if groups[f"u_{name}"]), None)
        if match.group("prefix"):
            unit = _PREFIX_CURRENCIES[match.group("prefix").upper()]  # matched ignoring case
        raw = match.group("number")
        plain_integer = raw.isdigit()
        if plain_integer and unit is None and multiplier == 1.0:
            line_start = text.rfind("\n", 0, number_start) + 1
            if not text[line_start:number_start].strip() and _LIST_MARKER.match(text, number_end):
                continue  # "1. First point"
            if len(raw) == 4 and 1800 <= int(raw) <= 2100:
                continue  # a year: "in 2023"
        value = _parse_number(raw, lang) * multiplier
        of, of_end = _what_it_counts(text, end, unit)
        found.append(
            AmountRecord(
                value=value,
                unit=unit,
                of=of,
                text=text[start : max(end, of_end)].strip(),
                start=start,
                end=max(end, of_end),
            )
        )
    return found


def _apply(article: EnrichedArticle) -> None:
    # dates are not amounts: the spans the dates enricher found spare a second date pass
    date_spans = (
        [(d.start, d.end) for d in article.mentioned_dates]
        if ran(article, mentioned_dates.ENRICHER)
        else None
    )
    article.amounts = extract_amounts(article.text, str(article.language), date_spans)


ENRICHER = Enricher("amounts.rules", "2", _apply, results="amounts")
