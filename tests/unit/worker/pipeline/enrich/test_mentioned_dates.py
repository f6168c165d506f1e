"""extract_mentioned_dates: date expressions resolved against the publication date."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from tests.scaling import assert_linear
from worker.pipeline.enrich.mentioned_dates import ENRICHER, extract_mentioned_dates

ROOT = Path(__file__).resolve().parents[5]
SEEDS = {
    "en": ROOT / "seeds" / "000_9315569b376cac04.txt",
    "uk": ROOT / "tests" / "fixtures" / "enrich_rules" / "seed_uk.txt",
    "ru": ROOT / "tests" / "fixtures" / "enrich_rules" / "seed_ru.txt",
}
PUBLISHED = datetime(2023, 11, 24, 10, 30)  # a Friday


@pytest.mark.parametrize(
    ("language", "mention"), [("en", "November 22"), ("uk", "22 листопада"), ("ru", "22 ноября")]
)
def test_seed_date_is_found_and_resolved(language: str, mention: str) -> None:
    text = SEEDS[language].read_text(encoding="utf-8")
    [found] = extract_mentioned_dates(text, language, PUBLISHED)
    assert found.text == mention
    assert text[found.start : found.end] == mention
    assert (found.date, found.resolved) == (date(2023, 11, 22), True)
    [unanchored] = extract_mentioned_dates(text, language, None)
    assert (unanchored.text, unanchored.date, unanchored.resolved) == (mention, None, False)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("yesterday", "en", date(2023, 11, 23)),
        ("Today", "en", date(2023, 11, 24)),
        ("the day before yesterday", "en", date(2023, 11, 22)),
        ("on Monday", "en", date(2023, 11, 20)),
        ("on Friday", "en", date(2023, 11, 24)),
        ("3 days ago", "en", date(2023, 11, 21)),
        ("on December 5", "en", date(2023, 12, 5)),  # within 60 days ahead: a coming event
        ("on January 3", "en", date(2024, 1, 3)),
        ("on May 3", "en", date(2023, 5, 3)),  # further ahead: the past one
        ("Monday, November 20, 2023", "en", date(2023, 11, 20)),
        ("the 22nd of November", "en", date(2023, 11, 22)),
        ("2022-02-24", "en", date(2022, 2, 24)),
        ("24.02.2022", "uk", date(2022, 2, 24)),
        ("вчора", "uk", date(2023, 11, 23)),
        ("Сьогодні", "uk", date(2023, 11, 24)),
        ("у середу", "uk", date(2023, 11, 22)),
        ("в понеділок", "uk", date(2023, 11, 20)),
        ("22 листопада 2023 року", "uk", date(2023, 11, 22)),
        ("24 лютого 2022 р.", "uk", date(2022, 2, 24)),
        ("2 дні тому", "uk", date(2023, 11, 22)),
        ("вчера", "ru", date(2023, 11, 23)),
        ("сегодня", "ru", date(2023, 11, 24)),
        ("в среду", "ru", date(2023, 11, 22)),
        ("во вторник", "ru", date(2023, 11, 21)),
        ("22 ноября", "ru", date(2023, 11, 22)),
        ("1 марта 2022 года", "ru", date(2022, 3, 1)),
        ("3 дня назад", "ru", date(2023, 11, 21)),
    ],
)
def test_forms_resolve(text: str, language: str, expected: date) -> None:
    [found] = extract_mentioned_dates(text, language, PUBLISHED)
    assert (found.date, found.resolved) == (expected, True)
    assert found.text in text
    assert text.endswith(found.text)


def test_absolute_dates_resolve_without_publication_date() -> None:
    [found] = extract_mentioned_dates("22 листопада 2023 року", "uk", None)
    assert found.date == date(2023, 11, 22)
    [relative] = extract_mentioned_dates("вчора", "uk", None)
    assert (relative.date, relative.resolved) == (None, False)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("середа проживання", "uk"),  # "environment", not Wednesday
        ("серед нас", "uk"),
        ("в этой среде", "ru"),
        ("5,000 soldiers and 2.71%", "en"),
        ("a May meeting", "en"),
    ],
)
def test_no_false_dates(text: str, language: str) -> None:
    assert extract_mentioned_dates(text, language, PUBLISHED) == []


def test_impossible_date_is_unresolved() -> None:
    [found] = extract_mentioned_dates("February 30", "en", PUBLISHED)
    assert (found.date, found.resolved) == (None, False)


def test_huge_input_is_linear() -> None:
    seed = SEEDS["en"].read_text(encoding="utf-8") + "\n\n"
    assert len(extract_mentioned_dates(seed * 440, "en", PUBLISHED)) == 440
    assert_linear(
        lambda text: extract_mentioned_dates(text, "en", PUBLISHED), lambda n: seed * n, small=25
    )


def test_enricher_constant() -> None:
    assert ENRICHER.name == "mentioned_dates.rules"
    assert ENRICHER.version


@pytest.mark.parametrize("published", [datetime(9999, 12, 31), datetime(1, 1, 1)])
def test_a_publication_date_out_of_range_resolves_nothing_and_never_overflows(
    published: datetime,
) -> None:
    found = extract_mentioned_dates(
        "It rained yesterday, 3 days ago and on Monday; it clears tomorrow, on December 5.",
        "en",
        published,
    )
    assert found  # the expressions are still found, as text
    assert all(d.date is None and not d.resolved for d in found)
