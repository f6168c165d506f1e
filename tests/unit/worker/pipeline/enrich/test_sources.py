"""extract_cited_sources: outlets named next to a reporting cue."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scaling import assert_linear
from worker.pipeline.enrich.sources import ENRICHER, extract_cited_sources

ROOT = Path(__file__).resolve().parents[5]
SEEDS = {
    "en": ROOT / "seeds" / "000_9315569b376cac04.txt",
    "uk": ROOT / "tests" / "fixtures" / "enrich_rules" / "seed_uk.txt",
    "ru": ROOT / "tests" / "fixtures" / "enrich_rules" / "seed_ru.txt",
}


@pytest.mark.parametrize(
    ("language", "cue"), [("en", "reports"), ("uk", "передає"), ("ru", "сообщает")]
)
def test_seed_cites_tvp_world(language: str, cue: str) -> None:
    text = SEEDS[language].read_text(encoding="utf-8")
    [source] = extract_cited_sources(text, language)
    assert (source.name, source.cue) == ("TVP World", cue)
    assert text[source.start : source.end] == "TVP World"


@pytest.mark.parametrize(
    ("text", "language", "names"),
    [
        ("According to Reuters, the talks failed.", "en", ["Reuters"]),
        ("Reuters reported that the talks failed.", "en", ["Reuters"]),
        ("As reported by the BBC, the talks failed.", "en", ["BBC"]),
        ("The New York Times reported on Monday that it failed.", "en", ["The New York Times"]),
        ("The talks failed, reports the Kyiv Independent.", "en", ["Kyiv Independent"]),
        ("Про це передає Укрінформ.", "uk", ["Укрінформ"]),
        ("Як пише «Українська правда», переговори зірвано.", "uk", ["Українська правда"]),
        ("Як пише Українська правда, переговори зірвано.", "uk", ["Українська правда"]),
        ("Про це повідомляє Reuters з посиланням на джерела.", "uk", ["Reuters"]),
        ("За даними ООН, так. За даними розвідки, ні.", "uk", ["ООН"]),
        ("Об этом сообщает ТАСС.", "ru", ["ТАСС"]),
        ("По данным «Интерфакс», переговоры сорваны.", "ru", ["Интерфакс"]),
        ("Как пишет Новая газета, переговоры сорваны.", "ru", ["Новая газета"]),
        ("«Интерфакс» сообщает, что переговоры сорваны.", "ru", ["Интерфакс"]),
    ],
)
def test_cues_and_multiword_names(text: str, language: str, names: list[str]) -> None:
    assert [s.name for s in extract_cited_sources(text, language)] == names


def test_no_cue_no_source() -> None:
    assert extract_cited_sources("Lithuania urges a stronger alliance with Poland.", "en") == []
    assert extract_cited_sources("he reports nothing of interest.", "en") == []


def test_huge_input_is_linear() -> None:
    seed = SEEDS["en"].read_text(encoding="utf-8") + "\n\n"
    assert len(extract_cited_sources(seed * 440, "en")) == 440
    assert_linear(lambda text: extract_cited_sources(text, "en"), lambda n: seed * n, small=25)


def test_enricher_constant() -> None:
    assert ENRICHER.name == "sources.rules"
    assert ENRICHER.version


def test_a_person_is_not_a_cited_source() -> None:
    text = "According to Gabrielius Landsbergis, the plan works. According to Reuters, it does not."
    person = text.index("Gabrielius Landsbergis")
    assert [s.name for s in extract_cited_sources(text, "en")] == [
        "Gabrielius Landsbergis",
        "Reuters",
    ]  # without the entity pass, the rules cannot tell
    persons = [(person, person + len("Gabrielius Landsbergis"))]
    assert [s.name for s in extract_cited_sources(text, "en", persons)] == ["Reuters"]
