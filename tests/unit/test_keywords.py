"""extract_keywords (YAKE on lemmatised text) and topics (a keyword table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scaling import assert_linear
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
    seed = SEEDS["uk"].read_text(encoding="utf-8") + "\n\n"
    assert extract_keywords(seed * 440, "uk")
    # below MAX_KEYWORD_CHARS, where the whole input is read
    assert_linear(lambda text: extract_keywords(text, "uk"), lambda n: (seed * 6)[:n], small=1_200)
    assert_linear(lambda text: topics(text, "uk"), lambda n: seed * n, small=25)


def test_enricher_constant() -> None:
    assert ENRICHER[0].startswith("keywords.")
    assert ENRICHER[1]


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", {"grid", "winter"}), ("uk", {"енергосистема", "зима"}), ("ru", {"энергосистема"})],
)
def test_second_story_keywords_merge_inflected_forms(language: str, expected: set[str]) -> None:
    text = (ROOT / "tests" / "fixtures" / "enrich" / f"grid_{language}.txt").read_text("utf-8")
    keywords = [k.text for k in extract_keywords(text, language)]
    words = {word for keyword in keywords for word in keyword.split()}
    assert expected <= words, keywords
    # "енергосистеми", "енергосистему" and "енергосистемі" are one keyword, not three
    assert len(keywords) == len({k.casefold() for k in keywords})
