"""extract_cited_sources: outlets named next to a reporting cue."""

from __future__ import annotations

import statistics
import time
import timeit
from pathlib import Path

import pytest

from worker.pipeline.sources import ENRICHER, extract_cited_sources

ROOT = Path(__file__).resolve().parents[2]
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
    text = (SEEDS["en"].read_text(encoding="utf-8") + "\n\n") * 440
    started = time.perf_counter()
    assert len(extract_cited_sources(text, "en")) == 440
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_seed_median_time_is_under_10_ms(language: str) -> None:
    text = SEEDS[language].read_text(encoding="utf-8")
    runs = timeit.repeat(lambda: extract_cited_sources(text, language), number=1, repeat=21)
    assert statistics.median(runs) < 0.010


def test_enricher_constant() -> None:
    assert ENRICHER[0] == "sources.rules"
    assert ENRICHER[1]
