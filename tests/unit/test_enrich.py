"""Language and the content hash."""

from __future__ import annotations

import pytest

from worker.pipeline.article import ParsedArticle, TextBlock
from worker.pipeline.enrich import enrich
from worker.pipeline.enrich.duplicates import normalised_body_hash
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
