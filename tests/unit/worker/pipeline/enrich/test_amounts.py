"""extract_amounts: percentages, money and counts with what they measure."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scaling import assert_linear
from worker.pipeline.enrich.amounts import ENRICHER, extract_amounts

ROOT = Path(__file__).resolve().parents[5]
SEEDS = {
    "en": ROOT / "seeds" / "000_9315569b376cac04.txt",
    "uk": ROOT / "tests" / "fixtures" / "enrich_rules" / "seed_uk.txt",
    "ru": ROOT / "tests" / "fixtures" / "enrich_rules" / "seed_ru.txt",
}
SEED_AMOUNTS = {
    "en": [
        (10.0, None, "point plan"),  # "10-point plan": reported as a count, on purpose
        (5000.0, None, "soldiers"),
        (4.0, "percent", "GDP"),
        (2.71, "percent", None),
        (3.0, "percent", None),
        (3_000_000.0, None, "units of ammunition"),
    ],
    "uk": [
        (10.0, None, "пунктів"),
        (5000.0, None, "військових"),
        (4.0, "percent", "ВВП"),
        (2.71, "percent", None),
        (3.0, "percent", None),
        (3_000_000.0, None, "одиниць боєприпасів"),
    ],
    "ru": [
        (10.0, None, "пунктов"),
        (5000.0, None, "военных"),
        (4.0, "percent", "ВВП"),
        (2.71, "percent", None),
        (3.0, "percent", None),
        (3_000_000.0, None, "единиц боеприпасов"),
    ],
}


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_seed_amounts(language: str) -> None:
    text = SEEDS[language].read_text(encoding="utf-8")
    amounts = extract_amounts(text, language)
    assert [(a.value, a.unit, a.of) for a in amounts] == SEED_AMOUNTS[language]
    for amount in amounts:
        assert text[amount.start : amount.end] == amount.text


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("at least 3%.", "en", (3.0, "percent", None)),
        ("2,71% ВВП", "uk", (2.71, "percent", "ВВП")),
        ("3 млн", "uk", (3_000_000.0, None, None)),
        ("1,5 млрд гривень", "uk", (1.5e9, "UAH", None)),
        ("1,5 млрд гривень допомоги", "uk", (1.5e9, "UAH", "допомоги")),
        ("$2.5 billion in aid", "en", (2.5e9, "USD", None)),
        ("€300 млн", "ru", (3e8, "EUR", None)),
        ("10 тыс. человек", "ru", (10_000.0, None, "человек")),
        ("5 000 військових", "uk", (5000.0, None, "військових")),
        ("5\u00a0000 солдат", "ru", (5000.0, None, "солдат")),
        ("1,234.5 EUR", "en", (1234.5, "EUR", None)),
        ("40 percent of voters", "en", (40.0, "percent", "voters")),
        ("2,5 трлн рублей", "ru", (2.5e12, "RUB", None)),
        ("15 процентов", "ru", (15.0, "percent", None)),
        ("US$3bn", "en", (3e9, "USD", None)),
        ("£12 million", "en", (1.2e7, "GBP", None)),
    ],
)
def test_amount_forms(
    text: str, language: str, expected: tuple[float, str | None, str | None]
) -> None:
    [amount] = extract_amounts(text, language)
    assert (amount.value, amount.unit, amount.of) == expected


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("On November 22, it happened.", "en"),
        ("in 2023 the budget", "en"),
        ("22 листопада 2023 року", "uk"),
        ("22 ноября", "ru"),
        ("at 10:30 on the 22nd", "en"),
        ("3-й день, 5-го числа", "uk"),
        ("1. First point\n2. Second point", "en"),
        ("5G networks and 3D printers", "en"),
    ],
)
def test_years_dates_times_ordinals_and_list_markers_are_not_amounts(
    text: str, language: str
) -> None:
    assert extract_amounts(text, language) == []


def test_decimal_comma_versus_thousands_by_language() -> None:
    assert [a.value for a in extract_amounts("5,000 soldiers", "en")] == [5000.0]
    assert [a.value for a in extract_amounts("2,71 відсотка", "uk")] == [2.71]


def test_huge_input_is_linear() -> None:
    seed = SEEDS["en"].read_text(encoding="utf-8") + "\n\n"
    assert len(extract_amounts(seed * 440, "en")) == 440 * 6
    assert_linear(lambda text: extract_amounts(text, "en"), lambda n: seed * n, small=25)


def test_enricher_constant() -> None:
    assert ENRICHER.name == "amounts.rules"
    assert ENRICHER.version


@pytest.mark.parametrize("prefix", ["US$", "Us$", "us$"])
def test_a_currency_prefix_is_read_in_any_case(prefix: str) -> None:
    # the pattern ignores case; the prefix's currency must too (a KeyError lost the
    # article's every amount)
    found = extract_amounts(f"The loan is {prefix}5 million, and 3% of GDP.", "en")
    assert [(a.value, a.unit) for a in found] == [(5_000_000.0, "USD"), (3.0, "percent")]
