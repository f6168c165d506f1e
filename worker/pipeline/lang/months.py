"""Month and weekday names in English, Ukrainian and Russian, in every case news uses."""

from __future__ import annotations

import re

# Each month's word forms, lower case: the full name and abbreviations (an abbreviation
# written with its dot needs the dot: "mar." is a month, "mar" a verb), and for Ukrainian
# and Russian the genitive a day number takes ("22 листопада") and the nominative
# ("листопад", which typos and headlines use).
MONTHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "en": (
        ("january", "jan"), ("february", "feb"), ("march", "mar."), ("april", "apr"),
        ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
        ("september", "sept", "sep"), ("october", "oct"), ("november", "nov"),
        ("december", "dec"),
    ),
    "uk": (
        ("січня", "січень"), ("лютого", "лютий"), ("березня", "березень"),
        ("квітня", "квітень"), ("травня", "травень"), ("червня", "червень"),
        ("липня", "липень"), ("серпня", "серпень"), ("вересня", "вересень"),
        ("жовтня", "жовтень"), ("листопада", "листопад"), ("грудня", "грудень"),
    ),
    "ru": (
        ("января", "январь"), ("февраля", "февраль"), ("марта", "март"),
        ("апреля", "апрель"), ("мая", "май"), ("июня", "июнь"), ("июля", "июль"),
        ("августа", "август"), ("сентября", "сентябрь"), ("октября", "октябрь"),
        ("ноября", "ноябрь"), ("декабря", "декабрь"),
    ),
}  # fmt: skip

# any form in any language -> month number (the dot of an abbreviation left off)
MONTH_NUMBERS: dict[str, int] = {
    form.rstrip("."): number
    for months in MONTHS.values()
    for number, forms in enumerate(months, start=1)
    for form in forms
}


def month_patterns(language: str) -> list[tuple[int, str]]:
    """(month number, regex alternatives) for ``language``; English is capitalised (its
    patterns are matched case-sensitively), and an English abbreviation may end in a dot."""
    patterns = []
    for number, forms in enumerate(MONTHS[language], start=1):
        alternatives = []
        for form in sorted(forms, key=len, reverse=True):
            if language != "en":
                alternatives.append(re.escape(form))
            elif form.endswith("."):
                alternatives.append(re.escape(form.capitalize()))
            elif len(forms) > 1 and form != forms[0]:
                alternatives.append(re.escape(form.capitalize()) + r"\.?")
            else:
                alternatives.append(re.escape(form.capitalize()))
        patterns.append((number, "|".join(alternatives)))
    return patterns


WEEKDAYS = {
    "mon", "monday", "tue", "tues", "tuesday", "wed", "wednesday", "thu", "thursday", "fri",
    "friday", "sat", "saturday", "sun", "sunday", "понеділок", "вівторок", "середа", "четвер",
    "пʼятниця", "п'ятниця", "п’ятниця", "субота", "неділя", "понедельник", "вторник", "среда",
    "четверг", "пятница", "суббота", "воскресенье",
}  # fmt: skip
