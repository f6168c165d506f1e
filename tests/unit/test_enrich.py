"""Language and the content hash."""

from __future__ import annotations

import pytest

from worker.pipeline.enrich import detect_language, enrich, normalised_body_hash
from worker.pipeline.model import ParsedArticle, TextBlock


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


def test_a_body_past_the_limit_is_enriched_up_to_a_paragraph_end_and_says_so() -> None:
    from worker.pipeline.enrich import MAX_ENRICHED_CHARS

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
    from worker.pipeline import enrich as enrich_module

    monkeypatch.setattr(enrich_module, "MAX_ITEMS", 5)
    monkeypatch.setattr(enrich_module, "MAX_MENTIONS", 7)
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
