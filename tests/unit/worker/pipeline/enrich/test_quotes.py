"""extract_quotes: direct quotes and their speakers in English, Ukrainian and Russian."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scaling import assert_linear
from worker.pipeline.enrich.quotes import ENRICHER, Quote, extract_quotes

ROOT = Path(__file__).resolve().parents[5]
SEEDS = {
    "en": ROOT / "seeds" / "000_9315569b376cac04.txt",
    "uk": ROOT / "tests" / "fixtures" / "enrich_rules" / "seed_uk.txt",
    "ru": ROOT / "tests" / "fixtures" / "enrich_rules" / "seed_ru.txt",
}
# the three pinned quotes (how each begins) and the speaker's full name, per language
PINNED = {
    "en": (
        [
            "The time has come",
            "the United States of America has been",
            "learn from Ukraine every day",
        ],
        "Gabrielius Landsbergis",
        "Landsbergis",
        "minister of foreign affairs",
    ),
    "uk": (
        ["Настав час", "Сполучені Штати Америки були", "щодня вчитися в України"],
        "Габрієлюс Ландсбергіс",
        "Ландсбергіс",
        "міністр закордонних справ",
    ),
    "ru": (
        ["Пришло время", "Соединенные Штаты Америки были", "каждый день учиться у Украины"],
        "Габриэлюс Ландсбергис",
        "Ландсбергис",
        "министр иностранных дел",
    ),
}


def _seed(language: str) -> str:
    return SEEDS[language].read_text(encoding="utf-8")


def _starting(quotes: list[Quote], beginning: str) -> Quote:
    return next(q for q in quotes if q.text.startswith(beginning))


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_seed_quotes_are_attributed_to_landsbergis_without_entities(language: str) -> None:
    text = _seed(language)
    beginnings, full_name, surname, role = PINNED[language]
    quotes = extract_quotes(text, language)
    for beginning in beginnings:
        quote = _starting(quotes, beginning)
        assert quote.speaker == full_name
        assert role in (quote.speaker_role or "").casefold()
        assert quote.speaker_start is not None
        assert quote.speaker_end is not None
        assert surname in text[quote.speaker_start : quote.speaker_end]
        assert text[quote.start : quote.end] == quote.text


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_seed_quotes_use_the_callers_canonical_names(language: str) -> None:
    text = _seed(language)
    beginnings, full_name, surname, _ = PINNED[language]
    people, position = [], text.find(surname)
    while position >= 0:
        people.append((position, position + len(surname), "CANONICAL " + full_name))
        position = text.find(surname, position + 1)
    quotes = extract_quotes(text, language, people)
    for beginning in beginnings:
        assert _starting(quotes, beginning).speaker == "CANONICAL " + full_name


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_scare_quotes_of_three_words_or_fewer_are_not_quotes(language: str) -> None:
    texts = [q.text.casefold() for q in extract_quotes(_seed(language), language)]
    assert not any("worst-case" in t or "найгірші" in t or "наихудшие" in t for t in texts)
    # the seed's second Landsbergis sentence is one quote in two parts: the second part
    # ("is becoming a European strategic pillar") inherits the speaker of the first
    assert len(texts) >= 4


@pytest.mark.parametrize(
    ("text", "language", "speaker", "role_part"),
    [
        (
            "President Gitanas Nausėda met Foreign Minister Gabrielius Landsbergis on Monday. "
            "“We will build this corridor together with Poland,” the minister said.",
            "en",
            "Gabrielius Landsbergis",
            "Minister",
        ),
        (
            "Foreign Minister Gabrielius Landsbergis met President Gitanas Nausėda on Monday. "
            "“We will build this corridor together with Poland,” the president said.",
            "en",
            "Gitanas Nausėda",
            "President",
        ),
        (
            "Prime Minister Donald Tusk arrived in Vilnius. "
            "“Our countries will not be divided again,” he said.",
            "en",
            "Donald Tusk",
            "Prime Minister",
        ),
        (
            "Президент Володимир Зеленський зустрівся з журналістами.\n\n"
            "«Ми не відступимо від цього плану», — сказав він.",
            "uk",
            "Володимир Зеленський",
            "Президент",
        ),
        (
            "Министр иностранных дел Сергей Лавров прибыл в Анкару.\n\n"
            "«Мы продолжим переговоры на следующей неделе», — заявил министр.",
            "ru",
            "Сергей Лавров",
            "Министр иностранных дел",
        ),
        (
            "Министр иностранных дел Сергей Лавров прибыл в Анкару. "
            "Он подчеркнул: «Мы продолжим переговоры на следующей неделе».",
            "ru",
            "Сергей Лавров",
            "Министр",
        ),
    ],
)
def test_pronouns_and_role_nouns_go_to_the_last_fitting_person(
    text: str, language: str, speaker: str, role_part: str
) -> None:
    [quote] = extract_quotes(text, language)
    assert quote.speaker == speaker
    assert role_part in (quote.speaker_role or "")


def test_nested_quotes_are_one_quote() -> None:
    text = "«Он сказал: „Мы придём завтра утром“, и ушёл домой», — отметил Иванов."
    [quote] = extract_quotes(text, "ru")
    assert quote.text == "Он сказал: „Мы придём завтра утром“, и ушёл домой"
    assert quote.speaker == "Иванов"


def test_straight_quotes_and_a_verb_first_cue() -> None:
    text = '"We are ready to defend every inch of our land," said Landsbergis.'
    [quote] = extract_quotes(text, "en")
    assert quote.text == "We are ready to defend every inch of our land,"
    assert quote.speaker == "Landsbergis"


def test_a_quote_without_cue_has_no_speaker() -> None:
    [quote] = extract_quotes("The banner read “peace is not a given for anyone”.", "en")
    assert quote.speaker is None
    assert quote.speaker_role is None
    assert quote.speaker_start is None


def test_no_quotes() -> None:
    assert extract_quotes("Lithuania will spend 4% of GDP on defence.", "en") == []
    assert extract_quotes("", "uk") == []


def test_unbalanced_marks_do_not_swallow_the_next_paragraph() -> None:
    text = (
        "He said “this sentence never closes and goes on and on.\n\n"
        "“A real quote with enough words,” noted Landsbergis."
    )
    [quote] = extract_quotes(text, "en")
    assert quote.text == "A real quote with enough words,"
    assert quote.speaker == "Landsbergis"


def test_a_quote_does_not_span_paragraphs() -> None:
    text = "«Перша частина цитати без кінця\n\nдруга частина тексту», — сказав він."
    assert extract_quotes(text, "uk") == []


@pytest.mark.parametrize("unit", ["“", '"', "«„“", "« a b c d "])
def test_pathological_marks_take_linear_time(unit: str) -> None:
    assert_linear(lambda text: extract_quotes(text, "en"), lambda n: unit * n, small=10_000)


def test_huge_input_is_linear() -> None:
    seed = _seed("en") + "\n\n"
    quotes = extract_quotes(seed * 440, "en")  # about 1 MB
    assert len(quotes) == 440 * len(extract_quotes(_seed("en"), "en"))
    assert_linear(lambda text: extract_quotes(text, "en"), lambda n: seed * n, small=25)


def test_enricher_constant() -> None:
    assert ENRICHER.name == "quotes.rules"
    assert ENRICHER.version


@pytest.mark.parametrize(
    ("text", "language", "surname"),
    [
        (
            "Gabrielius Landsbergis spoke in Vilnius.\n\n"
            "“The time has come to finish the project,” noted Landsbergis.",
            "en",
            "Landsbergis",
        ),
        (
            "Габрієлюс Ландсбергіс виступив у Вільнюсі.\n\n"
            "«Настав час завершити цей проєкт», — зазначив Ландсбергіс.",
            "uk",
            "Ландсбергіс",
        ),
    ],
)
def test_a_surname_the_caller_missed_resolves_to_the_canonical_person(
    text: str, language: str, surname: str
) -> None:
    # the caller (the entity pass) found only the first, full mention
    first = text.index(surname)
    people = [(text.index(text.split()[0]), first + len(surname), "CANONICAL PERSON")]
    [quote] = extract_quotes(text, language, people)
    assert quote.speaker == "CANONICAL PERSON"
    assert text[quote.speaker_start : quote.speaker_end] == surname


def test_many_quotes_in_one_paragraph_take_linear_time() -> None:
    # each quote used to search the text back to its paragraph's start: quadratic when a
    # long text is one paragraph (1 MB of quotes took ~20 s)
    fragment = '"We will win this war," said John Smith. '
    quotes = extract_quotes(fragment * 1000, "en")
    assert len(quotes) == 1000
    assert quotes[-1].speaker == "John Smith"
    assert_linear(lambda text: extract_quotes(text, "en"), lambda n: fragment * n, small=1000)


@pytest.mark.parametrize(
    "text",
    ['"One two three four," he said.\n\n\n"Five six seven eight," she said.\n\n', "\n\n" * 3],
)
def test_paragraph_bounds_are_those_of_the_blank_lines(text: str) -> None:
    from worker.pipeline.enrich.quotes import _Paragraphs

    paragraphs = _Paragraphs(text)
    for position in range(len(text) + 1):
        start, end = text.rfind("\n\n", 0, position), text.find("\n\n", position)
        expected = (0 if start < 0 else start + 2), (len(text) if end < 0 else end)
        assert paragraphs.bounds(position) == expected, position
