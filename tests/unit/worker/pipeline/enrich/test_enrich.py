"""The enricher registry, language and the content hash."""

from __future__ import annotations

import pytest

from worker.pipeline import enrich as enrich_package
from worker.pipeline.article import EnrichedArticle, ParsedArticle, TextBlock
from worker.pipeline.enrich import (
    ENRICHERS,
    MAX_ENRICHED_CHARS,
    current_enrichers,
    enrich,
    entities,
)
from worker.pipeline.enrich.duplicates import normalised_body_hash
from worker.pipeline.enrich.enricher import Enricher
from worker.pipeline.enrich.language import detect_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("The minister said the budget would rise next year.", "en"),
        ("Міністр заявив, що бюджет зросте наступного року.", "uk"),
        ("Министр заявил, что бюджет вырастет в следующем году.", "ru"),
        ("Україна отримає допомогу", "uk"),  # short: the letters і/ї/є/ґ decide
        ("Это всё, что известно", "ru"),  # short: ы/э/ъ/ё decide
    ],
)
def test_language_is_detected_and_ukrainian_told_from_russian(text: str, language: str) -> None:
    detected, confidence = detect_language(text)
    assert detected == language
    assert 0.0 < confidence <= 1.0


def test_declared_language_wins() -> None:
    article = ParsedArticle(blocks=[TextBlock("paragraph", "Hello world, this is English.")])
    article.declared_language = "de"
    assert enrich(article).language == "de"


def test_content_hash_ignores_case_spacing_and_punctuation() -> None:
    assert normalised_body_hash("Hello,  World!\n\nAgain.") == normalised_body_hash(
        "hello world again"
    )
    assert normalised_body_hash("hello world") != normalised_body_hash("hello there")


def test_enrichment_counts_words_and_records_its_enrichers() -> None:
    article = ParsedArticle(
        blocks=[TextBlock("paragraph", "One two three."), TextBlock("paragraph", "Four five.")]
    )
    enriched = enrich(article)
    assert enriched.word_count == 5
    names = [e.name for e in enriched.enrichers]
    assert names[:2] == ["language.py3langid+cyrillic", "simhash.word3"]
    expected = {"entities", "quotes.rules", "amounts.rules", "keywords.lemma-score+pymorphy3"}
    assert expected <= set(names)


def test_languages_without_models_get_language_and_fingerprint_only() -> None:
    article = ParsedArticle(
        blocks=[TextBlock("paragraph", "Das ist ein deutscher Artikel über die Regierung.")]
    )
    enriched = enrich(article)
    assert enriched.language == "de"
    assert enriched.entities == []
    assert [e.name for e in enriched.enrichers] == ["language.py3langid+cyrillic", "simhash.word3"]


def _shout(article: EnrichedArticle) -> None:
    """A toy enricher: the body's words in capitals become topics."""
    article.topics = [word for word in article.parsed.body.split() if word.isupper()]


def _broken(article: EnrichedArticle) -> None:
    raise RuntimeError("a bug on odd input")


def test_an_enricher_is_one_module_and_one_registry_line() -> None:
    # the module: a function and its ENRICHER; the registry line: appending it
    shout = Enricher("shout.toy", "1", _shout, languages=frozenset({"en"}))
    registry = (*ENRICHERS, shout)

    enriched = enrich(_english_article("NATO and the EU met in Kyiv today."), registry)

    assert enriched.topics == ["NATO", "EU"]
    assert ("shout.toy", "1") in [(e.name, e.version) for e in enriched.enrichers]
    versions, every_article = current_enrichers(registry)
    assert versions["shout.toy"] == "1"
    assert "shout.toy" not in every_article  # it runs on English only
    german = enrich(_german_article(), registry)
    assert "shout.toy" not in [e.name for e in german.enrichers]


def test_a_failing_enricher_is_recorded_and_costs_the_article_nothing_else() -> None:
    broken = Enricher("broken.toy", "1", _broken)
    registry = (ENRICHERS[0], broken, *ENRICHERS[1:])

    enriched = enrich(_english_article("Minister Jane Doe visited Kyiv on Monday."), registry)

    names = [e.name for e in enriched.enrichers]
    assert "broken.toy" not in names
    assert {"entities", "quotes.rules", "keywords.lemma-score+pymorphy3"} <= set(names)
    assert "enricher broken.toy failed: RuntimeError" in enriched.parsed.warnings
    assert any(entity.canonical == "Kyiv" for entity in enriched.entities)


def _english_article(text: str) -> ParsedArticle:
    return ParsedArticle(blocks=[TextBlock("paragraph", text)], declared_language="en")


def _german_article() -> ParsedArticle:
    return ParsedArticle(
        blocks=[TextBlock("paragraph", "Das ist ein deutscher Artikel über die Regierung.")]
    )


def test_a_body_past_the_limit_is_enriched_up_to_a_paragraph_end_and_says_so() -> None:
    paragraph = "Minister Gabrielius Landsbergis visited Kyiv on Monday, the ministry said."
    count = MAX_ENRICHED_CHARS // (len(paragraph) + 2) + 100
    article = ParsedArticle(blocks=[TextBlock("paragraph", paragraph)] * count)
    article.declared_language = "en"
    enriched = enrich(article)

    read = MAX_ENRICHED_CHARS - MAX_ENRICHED_CHARS % (len(paragraph) + 2) - 2
    assert article.body[read:].startswith("\n\n")  # a whole number of paragraphs
    assert f"the enrichers read the first {read:,} of {len(article.body):,} characters" in (
        " ".join(article.warnings)
    )
    mentions = [m for e in enriched.entities for m in e.mentions]
    assert mentions
    assert max(m.end for m in mentions) <= read
    assert all(article.body[m.start : m.end] == m.text for m in mentions)  # body offsets
    assert enriched.word_count == count * 10  # word count and hashes cover the whole body


def test_each_enricher_keeps_a_bounded_number_of_items(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(enrich_package, "MAX_ITEMS", 5)
    monkeypatch.setattr(entities, "MAX_MENTIONS", 7)
    text = " ".join(
        f"Gabrielius Landsbergis met Olaf Scholz in Vilnius on {day} March 2024 and pledged "
        f"{day}% of GDP."
        for day in range(1, 21)
    )
    article = ParsedArticle(blocks=[TextBlock("paragraph", text)])
    article.declared_language = "en"
    enriched = enrich(article)

    assert len(enriched.amounts) == 5
    assert len(enriched.mentioned_dates) == 5
    assert enriched.amounts == sorted(enriched.amounts, key=lambda a: a.start)  # the first ones
    mentions = sorted(m.start for e in enriched.entities for m in e.mentions)
    assert len(mentions) == 7
    assert mentions[-1] < text.index(" 3 March")
    warnings = " ".join(article.warnings)
    assert "enricher amounts.rules kept the first 5 of" in warnings
    assert "enricher entities kept the first 7 of" in warnings


def test_observe_is_told_each_enricher_that_ran_with_the_language_and_its_time() -> None:
    """The worker's per-enricher histograms (worker/metrics.py) read this; a failing
    enricher's time counts too, one that does not apply to the language is not run."""
    shout = Enricher("shout.toy", "1", _shout, languages=frozenset({"de"}))
    broken = Enricher("broken.toy", "1", _broken)
    registry = (ENRICHERS[0], broken, shout, *ENRICHERS[1:])
    seen: list[tuple[str, str | None, float]] = []

    enrich(
        _english_article("NATO and the EU met in Kyiv today."),
        registry,
        lambda *timing: seen.append(timing),
    )

    names = [name for name, _, _ in seen]
    assert names == [e.name for e in registry if e is not shout]
    assert {language for _, language, _ in seen} == {"en"}  # the language enricher's result
    assert all(seconds >= 0 for _, _, seconds in seen)


def test_short_english_results_are_english_not_a_language_without_a_model() -> None:
    results = (
        "ATHLETICS - ZURICH MEETING RESULTS.\nZURICH 1997-08-12\nLeading results:\n"
        "Women's 100 metres hurdles\n1. Anna Novak (Jamaica) 12.71 seconds\n"
        "2. Ludmila Berg (Sweden) 12.74\n3. Maria Lopez (Cuba) 12.92\n"
        "4. Petra Vos (Slovenia) 12.95\n5. Julie Baum (Switzerland) 13.11"
    )
    assert detect_language(results)[0] == "en"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Die Bundesregierung hat am Freitag neue Maßnahmen beschlossen.", "de"),
        ("Le maire a rencontré les habitants du quartier.", "fr"),
        ("Влада је у петак најавила нове мере.", "sr"),
    ],
)
def test_a_language_without_a_model_is_kept_when_the_text_is_clearly_in_it(
    text: str, language: str
) -> None:
    assert detect_language(text)[0] == language
