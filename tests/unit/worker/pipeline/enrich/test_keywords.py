"""extract_keywords (our YAKE-like scorer on lemmatised text) and topics (a keyword table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scaling import assert_linear
from worker.pipeline.enrich.keywords import (
    ENRICHER,
    extract_keywords,
    lemmatise,
    topics,
)

ROOT = Path(__file__).resolve().parents[5]
SEEDS = {
    "en": ROOT / "seeds" / "000_9315569b376cac04.txt",
    "uk": ROOT / "tests" / "fixtures" / "enrich_rules" / "seed_uk.txt",
    "ru": ROOT / "tests" / "fixtures" / "enrich_rules" / "seed_ru.txt",
}
COUNTRY = {"en": "Lithuania", "uk": "Литва", "ru": "Литва"}
FIXTURES = ROOT / "tests" / "fixtures" / "enrich"


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
    assert ENRICHER.name.startswith("keywords.")
    assert ENRICHER.version


def test_enricher_name_says_what_scores() -> None:
    # yake was replaced by our own scorer; the name recorded before that is retired
    assert (ENRICHER.name, ENRICHER.version) == (
        "keywords.lemma-score+pymorphy3",
        "4:lemma-in-context",
    )
    assert "yake" not in ENRICHER.name
    assert ENRICHER.retired_names == ("keywords.yake+pymorphy3",)


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


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # a fixed phrase: "на тлі" is "against the background of" (тло), not the aphid тля
        ("на тлі загрози", "uk", "на тло загроза"),
        ("у 2024 році", "uk", "у 2024 рік"),
        # a dictionary form is itself ("рік", not the genitive plural of ріка); a very
        # common word wins a tie ("року": рік, not рок)
        ("цей рік", "uk", "цей рік"),
        ("минулого року", "uk", "минулий рік"),
        # agreement with the adjective before: the bank, not the jar "банка"
        ("Світового банку", "uk", "Світовий банк"),
        ("війни", "uk", "війна"),
        ("графіки", "uk", "графік"),
        # Russian: the dictionary's frequency estimates
        ("на фоне угрозы", "ru", "на фон угроза"),
        ("стали лучше", "ru", "стать хороший"),
    ],
)
def test_ambiguous_forms_get_the_lemma_their_context_gives(
    text: str, language: str, expected: str
) -> None:
    assert lemmatise(text, language).rstrip(".") == expected


def test_wrong_lemmas_are_never_keywords() -> None:
    text = (
        "Ціни на газ зростають на тлі війни. На тлі зими уряд шукає газ. Уряд на тлі "
        "дефіциту купує газ у Польщі. У 2024 році ціни зросли, і цей рік буде важким. "
        "Наступний рік теж. Рік тому газ коштував менше. Минулого року газ був дешевшим."
    )
    words = {w for k in extract_keywords(text, "uk") for w in k.text.casefold().split()}
    assert "газ" in words
    assert not words & {"тля", "тло", "ріка", "рок", "війнути"}


@pytest.mark.parametrize(("language", "noun"), [("uk", "бік"), ("ru", "сторона")])
def test_compound_prepositions_are_not_keywords(language: str, noun: str) -> None:
    # "з боку Росії" / "со стороны России" is "on the part of Russia"
    text = (FIXTURES / f"seed_{language}.txt").read_text(encoding="utf-8")
    words = {w for k in extract_keywords(text, language) for w in k.text.casefold().split()}
    assert noun not in words
    assert {"литва", "союз"} <= words


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("UA RU EN\n\nUkrenergo warned of outages. Ukrenergo plans outage schedules.", "en"),
        ("EN | UA | RU | DE\n\nUkrenergo warned of outages. Ukrenergo plans schedules.", "en"),
        ("UA RU EN\n\nУкренерго попередило про відключення. Укренерго планує графіки.", "uk"),
        ("RU UA EN\n\nУкрэнерго предупредило об отключениях. Укрэнерго планирует.", "ru"),
        ("Ukrenergo warned of outages (EN). Ukrenergo plans schedules. RU", "en"),
    ],
)
def test_language_switcher_codes_are_never_keywords(text: str, language: str) -> None:
    keywords = [k.text for k in extract_keywords(text, language)]
    assert keywords
    assert not {w.casefold() for k in keywords for w in k.split()} & {"en", "ua", "ru", "de"}
