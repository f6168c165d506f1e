"""extract_keywords (YAKE on lemmatised text) and topics (a keyword table)."""

from __future__ import annotations

import statistics
import time
import timeit
from pathlib import Path

import pytest

from worker.pipeline.keywords import ENRICHER, extract_keywords, lemmatise, topics

ROOT = Path(__file__).resolve().parents[2]
SEEDS = {
    "en": ROOT / "seeds" / "000_9315569b376cac04.txt",
    "uk": ROOT / "tests" / "fixtures" / "enrich_rules" / "seed_uk.txt",
    "ru": ROOT / "tests" / "fixtures" / "enrich_rules" / "seed_ru.txt",
}
COUNTRY = {"en": "Lithuania", "uk": "Литва", "ru": "Литва"}


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_seed_keywords_are_lemmas(language: str) -> None:
    keywords = extract_keywords(SEEDS[language].read_text(encoding="utf-8"), language)
    assert 1 <= len(keywords) <= 10
    words = {word for k in keywords for word in k.text.split()}
    assert COUNTRY[language] in words
    # inflected forms are merged: no "Литви"/"Литвы" next to "Литва"
    assert not words & {"Литви", "Литві", "Литвы", "Литве"}
    scores = [k.score for k in keywords]
    assert scores == sorted(scores)


def test_inflected_forms_merge_and_acronyms_are_kept() -> None:
    lemmas = lemmatise("Литви Литві Литва НАТО", "uk").rstrip(".").split()
    assert lemmas == ["Литва", "Литва", "Литва", "НАТО"]
    assert lemmatise("Литвы Литве НАТО", "ru").rstrip(".").split() == ["Литва", "Литва", "НАТО"]
    assert lemmatise("soldiers countries Landsbergis", "en").rstrip(".").split() == [
        "soldier",
        "country",
        "Landsbergis",
    ]


def test_blocks_are_separated_so_keywords_do_not_cross_the_headline() -> None:
    assert lemmatise("Headline without a stop\n\nBody text.", "en") == (
        "Headline without a stop. Body text."
    )


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_seed_topics(language: str) -> None:
    found = topics(SEEDS[language].read_text(encoding="utf-8"), language)
    assert found[0] == "defence"
    assert {"politics", "economy"} <= set(found)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Gas prices rose; the energy ministry blamed gas imports and oil.", "en", ["energy"]),
        ("Лікарі попереджають: вакцинація та здоров'я дітей.", "uk", ["health"]),
        ("Warm weather in Warsaw brought a warning.", "en", []),
        ("Газета вийшла. Газети продано.", "uk", []),
    ],
)
def test_topic_table(text: str, language: str, expected: list[str]) -> None:
    assert topics(text, language) == expected


def test_empty_text() -> None:
    assert extract_keywords("", "en") == []
    assert topics("", "ru") == []


def test_huge_input_is_bounded() -> None:
    text = (SEEDS["uk"].read_text(encoding="utf-8") + "\n\n") * 440
    started = time.perf_counter()
    extract_keywords(text, "uk")
    topics(text, "uk")
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_seed_topics_median_time_is_under_10_ms(language: str) -> None:
    text = SEEDS[language].read_text(encoding="utf-8")
    runs = timeit.repeat(lambda: topics(text, language), number=1, repeat=21)
    assert statistics.median(runs) < 0.010


def test_enricher_constant() -> None:
    assert ENRICHER[0].startswith("keywords.")
    assert ENRICHER[1]
